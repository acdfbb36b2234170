"""torch.utils.tensorboard: SummaryWriter logs scalars, histograms, images and text as
TensorBoard event files. ndgrad writes the files itself, so nothing beyond NumPy is needed to
log (matplotlib for add_figure); TensorBoard is needed only to look at them."""
from .writer import FileWriter, SummaryWriter

__all__ = ["FileWriter", "SummaryWriter"]
