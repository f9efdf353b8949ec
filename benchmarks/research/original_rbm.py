"""A re-creation of the original project's script for timing: the classic PyTorch RBM tutorial
(dense 943 × 1682 input of 1 / 0 / -1, 100 hidden, batch 100, 10 epochs, CD-10) on u1.base.

    python benchmarks/research/original_rbm.py [u1.base]
"""
import sys
import time

t_start = time.perf_counter()
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import torch  # noqa: E402

path = sys.argv[1] if len(sys.argv) > 1 else "/work/shared/data/ml-100k/u1.base"
df = pd.read_csv(path, sep="\t", header=None).to_numpy()
nb_users, nb_movies = 943, 1682
data = np.zeros((nb_users, nb_movies), np.float32)
data[df[:, 0] - 1, df[:, 1] - 1] = df[:, 2]
X = torch.from_numpy(data)
X[X == 0] = -1
X[(X == 1) | (X == 2)] = 0
X[X >= 3] = 1


class RBM:
    def __init__(self, nv, nh):
        self.W = torch.randn(nh, nv)
        self.a = torch.randn(1, nh)
        self.b = torch.randn(1, nv)

    def sample_h(self, x):
        p = torch.sigmoid(torch.mm(x, self.W.t()) + self.a)
        return p, torch.bernoulli(p)

    def sample_v(self, y):
        p = torch.sigmoid(torch.mm(y, self.W) + self.b)
        return p, torch.bernoulli(p)

    def train(self, v0, vk, ph0, phk):
        self.W += (torch.mm(v0.t(), ph0) - torch.mm(vk.t(), phk)).t()
        self.b += torch.sum((v0 - vk), 0)
        self.a += torch.sum((ph0 - phk), 0)


rbm = RBM(nb_movies, 100)
t0 = time.perf_counter()
for epoch in range(10):
    loss, s = 0.0, 0.0
    for u in range(0, nb_users - 100, 100):
        vk = X[u : u + 100].clone()
        v0 = X[u : u + 100]
        ph0, _ = rbm.sample_h(v0)
        for k in range(10):
            _, hk = rbm.sample_h(vk)
            _, vk = rbm.sample_v(hk)
            vk[v0 < 0] = v0[v0 < 0]
        phk, _ = rbm.sample_h(vk)
        rbm.train(v0, vk, ph0, phk)
        loss += torch.mean(torch.abs(v0[v0 >= 0] - vk[v0 >= 0]))
        s += 1.0
torch.save({"W": rbm.W, "a": rbm.a, "b": rbm.b}, "/tmp/original_rbm.pt")
print(f"train {time.perf_counter() - t0:.2f} s, process {time.perf_counter() - t_start:.2f} s (from import)")
