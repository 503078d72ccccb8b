"""Reference values for tests/local_losses.rs: the published code's own operations, in PyTorch, on fixed
tensors defined by formulas that the Rust test rebuilds.

- InfoPro (github.com/blackfeather-wang/InfoPro-Pytorch, networks/auxiliary_nets.py, `Decoder`): the
  features resized by F.interpolate(mode='bilinear', align_corners=True), and nn.BCELoss() on the
  decoder's sigmoid output against the image in [0, 1].
- PredSim (github.com/anokland/local-loss, train.py): `similarity_matrix` and F.mse_loss(Rh, Ry).

Run: python3 benches/reference/local_losses.py   (torch 2.15.0 printed the values in the test)
"""

import math

import torch
import torch.nn.functional as F


def similarity_matrix(x):
    # As train.py (no_similarity_std = False).
    if x.dim() == 4:
        if x.size(1) > 3 and x.size(2) > 1:
            z = x.view(x.size(0), x.size(1), -1)
            x = z.std(dim=2)
        else:
            x = x.view(x.size(0), -1)
    xc = x - x.mean(dim=1).unsqueeze(1)
    xn = xc / (1e-8 + torch.sqrt(torch.sum(xc ** 2, dim=1))).unsqueeze(1)
    return xn.matmul(xn.transpose(1, 0)).clamp(-1, 1)


def filled(shape, f):
    n = math.prod(shape)
    return torch.tensor([f(i) for i in range(n)], dtype=torch.float64).view(*shape)


torch.set_printoptions(precision=10)

# BCE of the decoder's sigmoid output: logits z_i = 3 sin(i), image t_i = (cos(i) + 1) / 2, 2×1×3×3.
z = filled([2, 1, 3, 3], lambda i: 3 * math.sin(i))
t = filled([2, 1, 3, 3], lambda i: (math.cos(i) + 1) / 2)
print("bce", torch.nn.BCELoss()(torch.sigmoid(z), t).item())

# Bilinear resize with corners aligned: x_i = 0.5 i − 1, 1×2×2×3 → 4×4.
x = filled([1, 2, 2, 3], lambda i: 0.5 * i - 1)
up = F.interpolate(x, size=[4, 4], mode="bilinear", align_corners=True)
print("upsample", [round(v, 10) for v in up.flatten().tolist()])

# PredSim's similarity term, labels [0, 1, 0, 2] of 3 classes.
y = torch.tensor([0, 1, 0, 2])
ry = similarity_matrix(F.one_hot(y, 3).double()).detach()
# Channels > 3 and side > 1: per-channel standard deviations. h_i = sin(0.7 i)·(1 + ((c + 1)(b + 2) mod 7) / 3)
# for sample b and channel c of 4×5×3×3: a spread of its own for each (equal spreads would leave only rounding).
h = filled([4, 5, 3, 3], lambda i: math.sin(0.7 * i) * (1 + ((i // 9 % 5 + 1) * (i // 45 + 2)) % 7 / 3))
print("sim_std", F.mse_loss(similarity_matrix(h), ry).item())
# Three channels: the flattened map. h_i = cos(0.3 i) + 0.1 i mod 7, 4×3×2×2.
g = filled([4, 3, 2, 2], lambda i: math.cos(0.3 * i) + 0.1 * (i % 7))
print("sim_flat", F.mse_loss(similarity_matrix(g), ry).item())
print("ry", ry.flatten().tolist())
