#!/usr/bin/env python3
"""Renders a report.html in headless Chromium, as a person would see it, and checks the screenshot: the page
is not blank, and every figure's area (where the page's own script says each figure lies, read with
--dump-dom) has at least 5 % non-background pixels, with a series colour (the report's Okabe-Ito palette) drawn in
it (a group without values for a figure, such as end-to-end runs in the kinetic-energy figure, draws nothing there). Usage: check_report_html.py REPORT_DIR [SCREENSHOT.png]. Standard library only."""
import os, re, shutil, struct, subprocess, sys, tempfile, zlib

SERIES = [(0, 114, 178), (213, 94, 0), (0, 158, 115), (204, 121, 167), (230, 159, 0), (86, 180, 233)]
WIDTH = 1400


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


def chromium(browser, args, url):
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={profile}",
                               "--hide-scrollbars", *args, url], check=True, capture_output=True, timeout=120).stdout.decode()


def main():
    report = os.path.abspath(sys.argv[1])
    url = "file://" + os.path.join(report, "report.html")
    shot = os.path.abspath(sys.argv[2] if len(sys.argv) > 2 else os.path.join(report, "report-screenshot.png"))
    browser = next((b for b in ("chromium", "chromium-browser", "google-chrome") if shutil.which(b)), None)
    if browser is None:
        sys.exit("no Chromium found (Debian: apt-get install chromium)")
    dom = chromium(browser, [f"--window-size={WIDTH},1000", "--dump-dom"], url)
    found = re.search(r'id="figure-rects"[^>]*>([^<]*)<', dom)
    assert found and found.group(1).strip(), "the page did not report where its figures are (its script did not run?)"
    rects = [tuple(int(v) for v in r.split(",")) for r in found.group(1).split(";")]
    height = max(y + h for _, y, _, h in rects) + 40
    chromium(browser, [f"--window-size={WIDTH},{height}", f"--screenshot={shot}"], url)
    w, h, rows = read_png(shot)
    assert (w, h) == (WIDTH, height), f"screenshot is {w}x{h}, asked {WIDTH}x{height}"
    ink_all = sum(1 for row in rows for p in row if p != (255, 255, 255))
    assert ink_all > w * h // 100, "the page is (nearly) blank"
    near = lambda p, c: all(abs(p[i] - c[i]) <= 12 for i in range(3))
    for i, (x, y, fw, fh) in enumerate(rects):
        area = [p for row in rows[y:y + fh] for p in row[x:x + fw]]
        assert area, f"figure {i + 1}: empty area {x},{y} {fw}x{fh}"
        ink = sum(1 for p in area if p != (255, 255, 255)) / len(area)
        # Lines and points are drawn in the colour itself, bars at 75 % over white (plot.rs).
        bar = lambda c: tuple(round(0.75 * v + 0.25 * 255) for v in c)
        series = [sum(1 for p in area if near(p, c) or near(p, bar(c))) for c in SERIES]
        print(f"figure {i + 1} at {x},{y} ({fw}x{fh}): {100 * ink:.1f} % drawn, pixels of each series colour {series}")
        assert ink >= 0.05, f"figure {i + 1}: only {100 * ink:.1f} % of its area is drawn"
        assert max(series) > 100, f"figure {i + 1}: no series is drawn"
    print(f"{shot}: {w}x{h}, {len(rects)} figures checked")


if __name__ == "__main__":
    main()
