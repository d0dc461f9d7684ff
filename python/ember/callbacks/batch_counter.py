"""Keras's ``save_freq=<int>`` rule, shared by ModelCheckpoint and BackupAndRestore."""


class BatchCounter:
    """Counts the batches seen across epochs (a batch index that does not grow means a new
    epoch began) and says when ``every`` of them have passed since the last save."""

    def __init__(self, every):
        self.every = every
        self.since_save = 0
        self.last = None  # the last batch index seen

    def due(self, batch):
        """Counts ``batch``; True when a save is due."""
        self.since_save += batch + 1 if self.last is None or batch <= self.last else batch - self.last
        self.last = batch
        if self.since_save >= self.every:
            self.since_save = 0
            return True
        return False
