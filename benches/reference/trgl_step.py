#!/usr/bin/env python3
"""PyTorch reference for `trgl bench step`: the same ResNet (He et al.'s CIFAR ResNet, option-A shortcuts),
the same split into modules with the same auxiliary heads, the same TRGL local loss (label-smoothed CE +
1/(2 tau) * sum over blocks of mean(r^2)), detached module inputs, one SGD optimizer per module — timed the
same way: median of N steps after warm-up on one fixed batch, every step reading loss and accuracy back to
the host. Runs NCHW and channels_last.

    python3 benches/reference/trgl_step.py --model resnet20 --bounds 4,6,8 --batch 128
"""
import argparse
import json
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    """out = relu(r + shortcut(x)), r = bn(conv(relu(bn(conv(x))))); returns (out, r)."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.stride, self.pad = stride, cout - cin

    def forward(self, x):
        r = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        skip = x[:, :, :: self.stride, :: self.stride] if self.stride > 1 else x
        if self.pad:
            before = self.pad // 2
            skip = F.pad(skip, (0, 0, 0, 0, before, self.pad - before))
        return F.relu(r + skip), r


class Stem(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, 1, 1, bias=False)
        self.bn = nn.BatchNorm2d(cout)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x))), None


class OneCnnHead(nn.Module):
    """trgl's `1cnn` head: relu(conv3x3) -> adaptive average pool to pool x pool -> BN -> linear."""

    def __init__(self, c, pool, classes):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, 1, 1, bias=False)
        self.bn = nn.BatchNorm2d(c)
        self.pool = pool
        self.fc = nn.Linear(c * pool * pool, classes)

    def forward(self, x):
        x = self.bn(F.adaptive_avg_pool2d(F.relu(self.conv(x)), self.pool))
        return self.fc(x.flatten(1))


class Classifier(nn.Module):
    def __init__(self, c, classes):
        super().__init__()
        self.fc = nn.Linear(c, classes)

    def forward(self, x):
        return self.fc(x.mean((2, 3)))


class LocalModule(nn.Module):
    def __init__(self, units, head):
        super().__init__()
        self.units, self.head = nn.ModuleList(units), head

    def forward(self, x):
        residuals = []
        for u in self.units:
            x, r = u(x)
            if r is not None:
                residuals.append(r)
        return x, residuals


def build(depth, width, channels, size, classes, bounds, pool):
    n = (depth - 2) // 6
    units, widths, sizes = [Stem(channels, width)], [width], [size]
    cin, s = width, size
    for stage in range(3):
        cout = width << stage
        for i in range(n):
            stride = 2 if stage > 0 and i == 0 else 1
            s = s // stride
            units.append(Block(cin, cout, stride))
            widths.append(cout)
            sizes.append(s)
            cin = cout
    ends = bounds + [len(units)]
    modules, start = [], 0
    for k, end in enumerate(ends):
        c, sz = widths[end - 1], sizes[end - 1]
        head = Classifier(c, classes) if k == len(ends) - 1 else OneCnnHead(c, min(pool, sz), classes)
        modules.append(LocalModule(units[start:end], head))
        start = end
    return modules


def local_loss(logits, y, residuals, weight, smoothing):
    ce = F.cross_entropy(logits, y, label_smoothing=smoothing)
    kinetic = sum(r.square().mean() for r in residuals) if residuals else torch.zeros((), device=logits.device)
    return ce + weight * kinetic, ce


def read_back(loss, logits, y):
    # trgl reads loss terms and the number of correct predictions back every step.
    return loss.item(), (logits.argmax(1) == y).sum().item()


def sgd(params, a):
    return torch.optim.SGD(params, lr=a.lr, momentum=a.momentum, dampening=0, weight_decay=a.weight_decay)


def time_kind(kind, modules, x, y, a, weight):
    for m in modules:
        m.train()
    optims = [sgd(m.parameters(), a) for m in modules]
    e2e_optim = sgd([p for m in modules for p in m.parameters()], a)
    times = []
    for i in range(a.warmup + a.steps):
        t0 = time.perf_counter()
        if kind == "e2e":
            h = x
            for m in modules:
                h, _ = m(h)
            logits = modules[-1].head(h)
            loss = F.cross_entropy(logits, y, label_smoothing=a.smoothing)
            read_back(loss, logits, y)
            e2e_optim.zero_grad(set_to_none=True)
            loss.backward()
            e2e_optim.step()
        else:
            active = range(len(modules)) if kind == "parallel" else [int(kind.split()[-1]) - 1]
            h = x
            with torch.no_grad():
                for m in modules[: active[0]]:
                    m.eval()
                    h, _ = m(h)
            for k in active:
                out, rs = modules[k](h.detach())
                logits = modules[k].head(out)
                loss, _ = local_loss(logits, y, rs, weight, a.smoothing)
                read_back(loss, logits, y)
                optims[k].zero_grad(set_to_none=True)
                loss.backward()
                optims[k].step()
                h = out.detach()
        if a.device == "cuda":
            torch.cuda.synchronize()
        if i >= a.warmup:
            times.append(time.perf_counter() - t0)
    med = statistics.median(times)
    return {"kind": kind, "batch": a.batch, "seconds": times, "median_seconds": med, "images_per_second": a.batch / med}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default="resnet20")
    p.add_argument("--width", type=int, default=16)
    p.add_argument("--bounds", default="4,6,8", help="unit index where each module after the first starts (stem = unit 0)")
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--image-size", type=int, default=32)
    p.add_argument("--channels", type=int, default=3)
    p.add_argument("--classes", type=int, default=10)
    p.add_argument("--pool", type=int, default=4)
    p.add_argument("--tau", type=float, default=2.0)
    p.add_argument("--lr", type=float, default=0.05)
    p.add_argument("--momentum", type=float, default=0.9)
    p.add_argument("--weight-decay", type=float, default=2e-4)
    p.add_argument("--smoothing", type=float, default=0.1)
    p.add_argument("--mode", default="all", help="e2e | parallel | e2e+parallel | sequential | all")
    p.add_argument("--format", default="both", choices=["nchw", "channels_last", "both"])
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (0: PyTorch's default)")
    p.add_argument("--json", action="store_true")
    a = p.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    depth = int(a.model.removeprefix("resnet"))
    bounds = [int(b) for b in a.bounds.split(",") if b]
    weight = 0.0 if a.tau == float("inf") else 1.0 / (2.0 * a.tau)
    kinds = {"e2e": ["e2e"], "parallel": ["parallel"], "e2e+parallel": ["e2e", "parallel"], "sequential": None, "all": None}[a.mode]
    if kinds is None:
        seq = [f"sequential module {k + 1}" for k in range(len(bounds) + 1)]
        kinds = seq if a.mode == "sequential" else ["e2e", "parallel"] + seq
    formats = ["nchw", "channels_last"] if a.format == "both" else [a.format]
    results = []
    for fmt in formats:
        if a.device == "cuda":
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats()
        modules = build(depth, a.width, a.channels, a.image_size, a.classes, bounds, a.pool)
        modules = [m.to(a.device) for m in modules]
        x = torch.randn(a.batch, a.channels, a.image_size, a.image_size, device=a.device)
        y = torch.randint(0, a.classes, (a.batch,), device=a.device)
        if fmt == "channels_last":
            modules = [m.to(memory_format=torch.channels_last) for m in modules]
            x = x.contiguous(memory_format=torch.channels_last)
        params = sum(p.numel() for m in modules for p in m.parameters())
        for kind in kinds:
            r = time_kind(kind, modules, x, y, a, weight)
            r.update(format=fmt, params=params, torch=torch.__version__, threads=torch.get_num_threads(), device=a.device)
            if a.device == "cuda":
                r["max_memory_allocated"] = torch.cuda.max_memory_allocated()
                torch.cuda.reset_peak_memory_stats()
            results.append(r)
    if a.json:
        print(json.dumps(results, indent=1))
    else:
        print(f"PyTorch {torch.__version__}, {torch.get_num_threads()} threads, {a.model} bounds {bounds}, batch {a.batch}, {results[0]['params']} params")
        for r in results:
            print(f"{r['format']:<14} {r['kind']:<22} {1000 * r['median_seconds']:>10.1f} ms {r['images_per_second']:>10.1f} img/s")


if __name__ == "__main__":
    main()
