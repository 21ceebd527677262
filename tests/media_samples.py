"""Real media for the content-part tests: a matplotlib figure's PNG and a one-page PDF."""

from __future__ import annotations

import io
from typing import Any


def figure(width_in: float = 4.0, height_in: float = 3.0) -> Any:
    """A small line chart (the Agg backend: no display needed)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width_in, height_in), dpi=100)
    fig.add_subplot().plot([1, 3, 2, 5])
    return fig


def png_bytes(width_in: float = 4.0, height_in: float = 3.0) -> bytes:
    buffer = io.BytesIO()
    figure(width_in, height_in).savefig(buffer, format="png")
    return buffer.getvalue()


def minimal_pdf(text: str) -> bytes:
    """A valid one-page PDF showing ``text`` in Helvetica (pypdf reads it back)."""
    stream = f"BT /F1 18 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return bytes(out)
