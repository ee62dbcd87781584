"""The image: build time and size, from the real Dockerfile with buildah (as the image
test builds it; see stack/image.py)."""

from __future__ import annotations

from typing import Any

from stack import image


def run(*, smoke: bool) -> dict[str, Any] | None:
    """None where buildah, podman or debootstrap are missing (or in a smoke run: the image
    test already builds it in the test command)."""
    if smoke or image.missing_tools():
        return None
    image.ensure_base_image()
    try:
        build = image.build_image()
        return {
            "build_s": build.seconds,
            "image_mb": build.size_bytes / 1e6,
            "base_mb": image.base_size_bytes() / 1e6,
        }
    finally:
        image.remove_image()
