"""What a file is, from its first bytes: never from its name or declared type."""

from __future__ import annotations

_PREFIXES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"%PDF-", "application/pdf"),
    (b"\x1a\x45\xdf\xa3", "video/webm"),  # EBML: WebM and Matroska
    (b"PK\x03\x04", "application/zip"),
)
# ISO base media (MP4, QuickTime, HEIC): `....ftyp<brand>` with the brand at offset 8.
_FTYP_BRANDS: dict[bytes, str] = {
    b"qt  ": "video/quicktime",
    b"heic": "image/heic",
    b"heix": "image/heic",
    b"mif1": "image/heif",
    b"avif": "image/avif",
}


def sniff(data: bytes) -> str | None:
    """The MIME type of a recognised file, else None."""
    for prefix, mime in _PREFIXES:
        if data.startswith(prefix):
            return mime
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if len(data) >= 12 and data[4:8] == b"ftyp":
        # Every other brand (isom, mp41, mp42, avc1, M4V, 3gp4, ...) is an MP4 video.
        return _FTYP_BRANDS.get(data[8:12], "video/mp4")
    return None


VIDEO_TYPES = frozenset({"video/mp4", "video/quicktime", "video/webm"})
IMAGE_TYPES = frozenset(
    {"image/png", "image/jpeg", "image/gif", "image/webp", "image/heic", "image/heif", "image/avif"}
)


def kind_of(mime: str | None) -> str:
    """image, video, pdf or other."""
    if mime in IMAGE_TYPES:
        return "image"
    if mime in VIDEO_TYPES:
        return "video"
    if mime == "application/pdf":
        return "pdf"
    return "other"
