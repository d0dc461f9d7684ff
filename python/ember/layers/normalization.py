"""Normalization layers: ``BatchNormalization``, ``LayerNormalization``,
``GroupNormalization`` and ``UnitNormalization`` (Keras 3 signatures and weights), each
running one fused core op with its backward."""

from ember import _native, constraints, initializers, regularizers
from ember.layers.layer import Layer
from ember.layers.native import BuiltinLayer, all_native


def _resolve_axis(layer, axis, input_shape):
    """``axis`` made non-negative, or a ValueError naming the layer and the input shape."""
    ndim = len(input_shape)
    if isinstance(axis, bool) or not isinstance(axis, int) or not -ndim <= axis < ndim:
        raise ValueError(
            f"{type(layer).__name__} layer '{layer.name}': axis {axis} is out of bounds for input shape "
            f"{tuple(input_shape)}"
        )
    return axis % ndim


def _known_dims(layer, input_shape, axes):
    dims = tuple(input_shape[a] for a in axes)
    if any(d is None for d in dims):
        raise ValueError(
            f"{type(layer).__name__} layer '{layer.name}': the dimensions of axis {list(axes)} must be known, "
            f"got input shape {tuple(input_shape)}"
        )
    return dims


class _AffineNormalization(BuiltinLayer):
    """What the layers with ``gamma`` (``scale``) and ``beta`` (``center``) share."""

    def __init__(self, center, scale, beta_initializer, gamma_initializer, beta_regularizer, gamma_regularizer,
                 beta_constraint, gamma_constraint, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.center = center
        self.scale = scale
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)
        self.gamma = self.beta = None

    def _add_affine(self, shape, with_gamma, with_beta):
        if with_gamma:
            self.gamma = self.add_weight(shape=shape, name="gamma", initializer=self.gamma_initializer,
                                         regularizer=self.gamma_regularizer, constraint=self.gamma_constraint)
        if with_beta:
            self.beta = self.add_weight(shape=shape, name="beta", initializer=self.beta_initializer,
                                        regularizer=self.beta_regularizer, constraint=self.beta_constraint)

    def _core_args(self):
        """Whether the core can run in compiled graphs, and the factory's weight arguments
        (Python regularizers and constraints stay with the eager driver)."""
        graph = all_native(
            (self.gamma_regularizer, self.beta_regularizer), (self.gamma_constraint, self.beta_constraint)
        )
        args = {"gamma": self.gamma, "beta": self.beta}
        if graph:
            args.update(
                gamma_regularizer=regularizers.native(self.gamma_regularizer),
                beta_regularizer=regularizers.native(self.beta_regularizer),
                gamma_constraint=constraints.native(self.gamma_constraint),
                beta_constraint=constraints.native(self.beta_constraint),
            )
        return graph, args

    def _affine_config(self):
        return {
            "center": self.center,
            "scale": self.scale,
            "beta_initializer": initializers.serialize(self.beta_initializer),
            "gamma_initializer": initializers.serialize(self.gamma_initializer),
            "beta_regularizer": regularizers.serialize(self.beta_regularizer),
            "gamma_regularizer": regularizers.serialize(self.gamma_regularizer),
            "beta_constraint": constraints.serialize(self.beta_constraint),
            "gamma_constraint": constraints.serialize(self.gamma_constraint),
        }


class BatchNormalization(_AffineNormalization):
    """Normalizes each feature (the entries along ``axis``) by the batch's mean and variance
    in training, updating ``moving = moving * momentum + batch * (1 - momentum)``, and by the
    moving statistics in inference. A frozen layer (``trainable = False``) runs in inference
    mode even when called with ``training=True``, as in Keras.

    Weights: ``gamma`` (``scale``), ``beta`` (``center``), ``moving_mean``,
    ``moving_variance``, each of shape ``(features,)``.
    """

    def __init__(
        self,
        axis=-1,
        momentum=0.99,
        epsilon=1e-3,
        center=True,
        scale=True,
        beta_initializer="zeros",
        gamma_initializer="ones",
        moving_mean_initializer="zeros",
        moving_variance_initializer="ones",
        beta_regularizer=None,
        gamma_regularizer=None,
        beta_constraint=None,
        gamma_constraint=None,
        synchronized=False,
        **kwargs,
    ):
        super().__init__(center, scale, beta_initializer, gamma_initializer, beta_regularizer, gamma_regularizer,
                         beta_constraint, gamma_constraint, **kwargs)
        if synchronized:
            raise ValueError("Argument synchronized=True is only supported with the TensorFlow backend.")
        self.axis = int(axis)
        self.momentum = float(momentum)
        self.epsilon = float(epsilon)
        self.synchronized = synchronized
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)
        self.moving_mean = self.moving_variance = None

    def build(self, input_shape):
        axis = _resolve_axis(self, self.axis, input_shape)
        shape = _known_dims(self, input_shape, [axis])
        self._add_affine(shape, self.scale, self.center)
        self.moving_mean = self.add_weight(shape=shape, name="moving_mean", initializer=self.moving_mean_initializer,
                                           trainable=False)
        self.moving_variance = self.add_weight(shape=shape, name="moving_variance",
                                               initializer=self.moving_variance_initializer, trainable=False)
        graph, args = self._core_args()
        core = _native.batch_normalization_layer(
            self.name, axis, len(input_shape), self.momentum, self.epsilon, self.moving_mean, self.moving_variance,
            trainable=self.trainable, **args,
        )
        self._set_core(core, graph)
        self.built = True

    @property
    def trainable(self):
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        Layer.trainable.fset(self, value)
        if getattr(self, "_core", None) is not None:
            _native.layer_set_trainable(self._core, bool(value))

    def call(self, inputs, training=None, mask=None):
        if mask is not None:
            raise NotImplementedError(f"BatchNormalization layer '{self.name}': masks are not supported by ember")
        return super().call(inputs, training)

    def get_config(self):
        return {
            **super().get_config(),
            "axis": self.axis,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            **self._affine_config(),
            "moving_mean_initializer": initializers.serialize(self.moving_mean_initializer),
            "moving_variance_initializer": initializers.serialize(self.moving_variance_initializer),
            "synchronized": self.synchronized,
        }


def _axis_arg(axis):
    if isinstance(axis, (list, tuple)):
        return list(axis)
    if isinstance(axis, int) and not isinstance(axis, bool):
        return axis
    raise TypeError(f"Expected an int or a list/tuple of ints for the argument 'axis', but received: {axis!r}")


class LayerNormalization(_AffineNormalization):
    """Normalizes each sample over ``axis`` (an int or a list), then ``* gamma + beta`` with
    weights of the input's dimensions on those axes. With ``rms_scaling``,
    ``x / sqrt(var + epsilon) * gamma`` (no ``beta``), as Keras computes it."""

    def __init__(
        self,
        axis=-1,
        epsilon=1e-3,
        center=True,
        scale=True,
        rms_scaling=False,
        beta_initializer="zeros",
        gamma_initializer="ones",
        beta_regularizer=None,
        gamma_regularizer=None,
        beta_constraint=None,
        gamma_constraint=None,
        **kwargs,
    ):
        super().__init__(center, scale, beta_initializer, gamma_initializer, beta_regularizer, gamma_regularizer,
                         beta_constraint, gamma_constraint, **kwargs)
        self.axis = _axis_arg(axis)
        self.epsilon = epsilon
        self.rms_scaling = rms_scaling

    def build(self, input_shape):
        if not isinstance(self.axis, list):
            self.axis = [self.axis]  # as Keras does
        for a in self.axis:
            _resolve_axis(self, a, input_shape)
        shape = _known_dims(self, input_shape, self.axis)
        self._add_affine(shape, self.scale or self.rms_scaling, self.center and not self.rms_scaling)
        graph, args = self._core_args()
        core = _native.layer_normalization_layer(
            self.name, [int(a) for a in self.axis], float(self.epsilon), bool(self.rms_scaling), **args
        )
        self._set_core(core, graph)
        self.built = True

    def get_config(self):
        config = {"axis": self.axis, "epsilon": self.epsilon, **self._affine_config(), "rms_scaling": self.rms_scaling}
        return {**super().get_config(), **config}


class GroupNormalization(_AffineNormalization):
    """Splits the channels (``axis``) into ``groups`` and normalizes each sample's group over
    its channels and all non-batch axes; ``gamma`` and ``beta`` have one value per channel.
    ``groups=-1`` makes one group per channel (instance normalization)."""

    def __init__(
        self,
        groups=32,
        axis=-1,
        epsilon=1e-3,
        center=True,
        scale=True,
        beta_initializer="zeros",
        gamma_initializer="ones",
        beta_regularizer=None,
        gamma_regularizer=None,
        beta_constraint=None,
        gamma_constraint=None,
        **kwargs,
    ):
        super().__init__(center, scale, beta_initializer, gamma_initializer, beta_regularizer, gamma_regularizer,
                         beta_constraint, gamma_constraint, **kwargs)
        self.groups = groups
        self.axis = axis
        self.epsilon = epsilon

    def build(self, input_shape):
        axis = _resolve_axis(self, self.axis, input_shape)
        if axis == 0:
            raise ValueError(
                f"GroupNormalization layer '{self.name}': axis {self.axis} is the batch axis of input shape "
                f"{tuple(input_shape)}"
            )
        (dim,) = _known_dims(self, input_shape, [axis])
        if self.groups == -1:
            self.groups = dim
        if isinstance(self.groups, bool) or not isinstance(self.groups, int) or not 0 < self.groups <= dim \
                or dim % self.groups:
            raise ValueError(
                f"GroupNormalization layer '{self.name}': the number of groups ({self.groups}) must divide the "
                f"number of channels ({dim}) of input shape {tuple(input_shape)}"
            )
        self._add_affine((dim,), self.scale, self.center)
        graph, args = self._core_args()
        core = _native.group_normalization_layer(self.name, self.groups, self.axis, float(self.epsilon), dim, **args)
        self._set_core(core, graph)
        self.built = True

    def get_config(self):
        return {**super().get_config(), "groups": self.groups, "axis": self.axis, "epsilon": self.epsilon,
                **self._affine_config()}


class UnitNormalization(BuiltinLayer):
    """Scales each sample to unit L2 norm over ``axis``:
    ``x * rsqrt(max(sum(x^2), 1e-12))``."""

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, (list, tuple)):
            self.axis = list(axis)
        elif isinstance(axis, int) and not isinstance(axis, bool):
            self.axis = axis
        else:
            raise TypeError(
                f"Invalid value for `axis` argument: expected an int or a list/tuple of ints. Received: axis={axis}"
            )
        axes = self.axis if isinstance(self.axis, list) else [self.axis]
        self._set_core(_native.unit_normalization_layer(self.name, [int(a) for a in axes]))

    def build(self, input_shape):
        for a in self.axis if isinstance(self.axis, list) else [self.axis]:
            _resolve_axis(self, a, input_shape)
        self.built = True

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}
