#!/usr/bin/env python3
"""Renders a report.html in headless Chromium, as a person would see it, and checks the screenshot: not
blank, and the figures drawn (pixels of the report's first two series colours, Okabe-Ito blue and
vermillion). Usage: check_report_html.py REPORT_DIR [SCREENSHOT.png]. Standard library only."""
import os, shutil, struct, subprocess, sys, tempfile, zlib

BLUE, VERMILLION = (0, 114, 178), (213, 94, 0)


def read_png(path):
    """(width, height, rows of (r, g, b) tuples) of an 8-bit RGB/RGBA, non-interlaced PNG."""
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path}: not a PNG"
    pos, idat, w = 8, b"", None
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and colour in (2, 6) and interlace == 0, f"{path}: unsupported PNG ({depth}-bit, type {colour})"
            bpp = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw, stride, rows, prev = zlib.decompress(idat), w * bpp, [], bytearray(w * bpp)
    for y in range(h):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if f == 1: line[i] = (line[i] + a) & 255
            elif f == 2: line[i] = (line[i] + b) & 255
            elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append([tuple(line[x * bpp:x * bpp + 3]) for x in range(w)])
        prev = line
    return w, h, rows


def main():
    report = os.path.abspath(sys.argv[1])
    html = os.path.join(report, "report.html")
    shot = sys.argv[2] if len(sys.argv) > 2 else os.path.join(report, "report-screenshot.png")
    browser = next((b for b in ("chromium", "chromium-browser", "google-chrome") if shutil.which(b)), None)
    if browser is None:
        sys.exit("no Chromium found (Debian: apt-get install chromium)")
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={profile}",
                        "--hide-scrollbars", "--window-size=1400,2400", f"--screenshot={os.path.abspath(shot)}",
                        "file://" + html], check=True, capture_output=True, timeout=120)
    w, h, rows = read_png(shot)
    pixels = [p for row in rows for p in row]
    ink = sum(1 for p in pixels if p != (255, 255, 255))
    near = lambda p, c: all(abs(p[i] - c[i]) <= 12 for i in range(3))
    blue, red = sum(1 for p in pixels if near(p, BLUE)), sum(1 for p in pixels if near(p, VERMILLION))
    print(f"{shot}: {w}x{h}, {100 * ink / len(pixels):.1f} % drawn, {blue} blue and {red} vermillion pixels (the figures' series)")
    assert (w, h) == (1400, 2400), f"screenshot is {w}x{h}"
    assert ink > len(pixels) // 50, "the page is (nearly) blank"
    assert blue > 500 and red > 500, "the figures' lines are not on the page"


if __name__ == "__main__":
    main()
