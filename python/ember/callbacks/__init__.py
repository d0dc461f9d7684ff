"""``ember.callbacks``: Keras 3 callbacks."""
from ember.callbacks.backup_and_restore import BackupAndRestore  # noqa: F401
from ember.callbacks.callback import Callback  # noqa: F401
from ember.callbacks.callback_list import CallbackList  # noqa: F401
from ember.callbacks.csv_logger import CSVLogger  # noqa: F401
from ember.callbacks.early_stopping import EarlyStopping  # noqa: F401
from ember.callbacks.history import History  # noqa: F401
from ember.callbacks.lambda_callback import LambdaCallback  # noqa: F401
from ember.callbacks.learning_rate_scheduler import LearningRateScheduler  # noqa: F401
from ember.callbacks.model_checkpoint import ModelCheckpoint  # noqa: F401
from ember.callbacks.progbar_logger import ProgbarLogger  # noqa: F401
from ember.callbacks.reduce_lr_on_plateau import ReduceLROnPlateau  # noqa: F401
from ember.callbacks.terminate_on_nan import TerminateOnNaN  # noqa: F401
