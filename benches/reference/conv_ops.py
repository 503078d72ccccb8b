"""PyTorch's CPU convolution kernels one by one — forward, input gradient, weight gradient — at the shapes
of examples/conv_ops.rs (run both, compare the tables):

    cargo run --release --example conv_ops
    python3 benches/reference/conv_ops.py [--threads 2]
"""
import argparse
import time

import torch

SHAPES = [  # batch, channels in, height = width, channels out, stride, kernel
    (128, 3, 32, 16, 1, 3),
    (128, 16, 32, 16, 1, 3),
    (128, 16, 32, 32, 2, 3),
    (128, 32, 16, 32, 1, 3),
    (128, 64, 8, 64, 1, 3),
    (128, 64, 56, 128, 2, 1),
]


def median_time(f, n=10):
    f()
    f()
    times = []
    for _ in range(n):
        start = time.perf_counter()
        f()
        times.append(time.perf_counter() - start)
    times.sort()
    return times[len(times) // 2]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"PyTorch {torch.__version__}, {args.threads} threads")
    print("shape (N C H O stride)   forward ms   input-grad ms   weight-grad ms   total ms   GFLOP/s")
    for b, c, h, o, s, k in SHAPES:
        p = k // 2
        x = torch.randn(b, c, h, h)
        w = torch.randn(o, c, k, k)
        y = torch.nn.functional.conv2d(x, w, padding=p, stride=s)
        g = torch.randn_like(y)
        flops = 2 * b * o * c * k * k * y.shape[2] * y.shape[3]

        def backward(mask):
            return torch.ops.aten.convolution_backward(g, x, w, None, [s, s], [p, p], [1, 1], False, [0, 0], 1, mask)

        fwd = median_time(lambda: torch.nn.functional.conv2d(x, w, padding=p, stride=s))
        dx = median_time(lambda: backward([True, False, False]))
        dw = median_time(lambda: backward([False, True, False]))
        total = fwd + dx + dw
        print(f"{b} {c} {h} {o} s{s} k{k}   {fwd * 1e3:>10.2f}   {dx * 1e3:>13.2f}   {dw * 1e3:>14.2f}   "
              f"{total * 1e3:>8.2f}   {3 * flops / total / 1e9:>7.0f}")


if __name__ == "__main__":
    main()
