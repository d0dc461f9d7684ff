"""``ember.ops.image``: keras.ops.image functions, computed by the Rust core.

Images are rank 3 ``(height, width, channels)`` or rank 4 ``(batch, height, width, channels)``
(``data_format="channels_first"`` puts the channels before the height). Resizing and affine
transforms pass gradients to the images; crops and pads are views or copies with gradients.
"""
from ember import _native
from ember.backend import image_data_format
from ember.ops.shape import pad

__all__ = ["resize", "affine_transform", "crop_images", "pad_images"]


def _data_format(data_format):
    data_format = data_format or image_data_format()
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(
            "The `data_format` argument must be one of 'channels_first', 'channels_last'. "
            f"Received: data_format={data_format}"
        )
    return data_format


def _images(images, op):
    x = images if isinstance(images, _native.Tensor) else _native.Tensor(images, "float32")
    if x.ndim not in (3, 4):
        raise ValueError(
            f"{op}: invalid images rank: expected rank 3 (single image) or rank 4 (batch of images). "
            f"Received input with shape: images.shape={tuple(x.shape)}"
        )
    return x


def _channels_last(x, data_format):
    """``x`` in channels-last layout, and the function that restores ``data_format``."""
    if data_format == "channels_last":
        return x, lambda y: y
    if x.ndim == 4:
        return _native.transpose(x, (0, 2, 3, 1)), lambda y: _native.transpose(y, (0, 3, 1, 2))
    return _native.transpose(x, (1, 2, 0)), lambda y: _native.transpose(y, (2, 0, 1))


def resize(images, size, interpolation="bilinear", antialias=False, crop_to_aspect_ratio=False,
           pad_to_aspect_ratio=False, fill_mode="constant", fill_value=0.0, data_format=None):
    """Resizes to ``size = (height, width)`` with half-pixel centers ("bilinear" or "nearest").

    ``crop_to_aspect_ratio`` first takes the largest centered window of the target aspect ratio;
    ``pad_to_aspect_ratio`` first pads the short side evenly with ``fill_value``. ``antialias``
    is supported for upsampling only (where it changes nothing).
    """
    if len(size) != 2:
        raise ValueError(f"Expected `size` to be a tuple of 2 integers. Received: size={size}")
    if size[0] <= 0 or size[1] <= 0:
        raise ValueError(f"`size` must have positive height and width. Received: size={size}")
    if fill_mode != "constant":
        raise ValueError(
            f"Invalid value for argument `fill_mode`. Only `'constant'` is supported. Received: fill_mode={fill_mode}"
        )
    x, restore = _channels_last(_images(images, "resize"), _data_format(data_format))
    y = _native.image_resize(
        x, int(size[0]), int(size[1]), interpolation, bool(antialias), bool(crop_to_aspect_ratio),
        bool(pad_to_aspect_ratio), float(fill_value),
    )
    return restore(y)


def affine_transform(images, transform, interpolation="bilinear", fill_mode="constant", fill_value=0,
                     data_format=None):
    """Applies projective transforms: row ``[a0, a1, a2, b0, b1, b2, c0, c1]`` maps output point
    ``(x, y)`` to input point ``((a0 x + a1 y + a2) / k, (b0 x + b1 y + b2) / k)`` with
    ``k = c0 x + c1 y + 1``. ``transform`` is ``(8,)`` or ``(batch, 8)``. Points outside the
    image follow ``fill_mode``: "constant" (``fill_value``), "nearest", "wrap", "reflect",
    "mirror"."""
    x, restore = _channels_last(_images(images, "affine_transform"), _data_format(data_format))
    y = _native.image_affine_transform(x, transform, interpolation, fill_mode, float(fill_value))
    return restore(y)


def _sides(op, names, before, after, target, size, shrink):
    """Two of (before, after, target) given: all three (``target = size -/+ before - after``)."""
    if [before, after, target].count(None) != 1:
        raise ValueError(
            f"{op}: must specify exactly two of {', '.join(names)}. "
            f"Received: {names[0]}={before}, {names[1]}={after}, {names[2]}={target}"
        )
    sign = -1 if shrink else 1
    if before is None:
        before = sign * (target - size) - after
    elif after is None:
        after = sign * (target - size) - before
    else:
        target = size + sign * (before + after)
    return before, after, target


def crop_images(images, top_cropping=None, left_cropping=None, bottom_cropping=None, right_cropping=None,
                target_height=None, target_width=None, data_format=None):
    """Crops images to a window; give two of (top, bottom, target_height) and two of
    (left, right, target_width)."""
    x, restore = _channels_last(_images(images, "crop_images"), _data_format(data_format))
    h, w = x.shape[-3], x.shape[-2]
    top, bottom, height = _sides("crop_images", ("top_cropping", "bottom_cropping", "target_height"),
                                 top_cropping, bottom_cropping, target_height, h, shrink=True)
    left, right, width = _sides("crop_images", ("left_cropping", "right_cropping", "target_width"),
                                left_cropping, right_cropping, target_width, w, shrink=True)
    for name, v in (("top_cropping", top), ("left_cropping", left), ("bottom_cropping", bottom),
                    ("right_cropping", right), ("target_height", height), ("target_width", width)):
        if v < 0:
            raise ValueError(
                f"crop_images: {name} must be >= 0 for images of shape {tuple(x.shape)}. "
                f"Received: {name}={v}"
            )
    return restore(_native.image_crop(x, int(top), int(left), int(height), int(width)))


def pad_images(images, top_padding=None, left_padding=None, bottom_padding=None, right_padding=None,
               target_height=None, target_width=None, data_format=None):
    """Pads images with zeros; give two of (top, bottom, target_height) and two of
    (left, right, target_width)."""
    x, restore = _channels_last(_images(images, "pad_images"), _data_format(data_format))
    h, w = x.shape[-3], x.shape[-2]
    top, bottom, _ = _sides("pad_images", ("top_padding", "bottom_padding", "target_height"),
                            top_padding, bottom_padding, target_height, h, shrink=False)
    left, right, _ = _sides("pad_images", ("left_padding", "right_padding", "target_width"),
                            left_padding, right_padding, target_width, w, shrink=False)
    for name, v in (("top_padding", top), ("left_padding", left), ("bottom_padding", bottom),
                    ("right_padding", right)):
        if v < 0:
            raise ValueError(
                f"pad_images: {name} must be >= 0 for images of shape {tuple(x.shape)}. "
                f"Received: {name}={v}"
            )
    widths = [(int(top), int(bottom)), (int(left), int(right)), (0, 0)]
    if x.ndim == 4:
        widths = [(0, 0)] + widths
    return restore(pad(x, widths))
