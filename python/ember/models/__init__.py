"""ember.models."""


class Model:
    pass


class Sequential(Model):
    pass
