"""DATE in PyTorch: the independent reference for risklane's models/date.

Written from the DATE paper and its public code's description (leaf
embeddings, multi-head self-attention with ReLU projections, layer norm over
the trees x dim matrix, importer x HS-code query attention over the leaves,
concat fusion, leaky-ReLU hidden layer, a sigmoid head and a linear revenue head
that also weighs the row's revenue inputs, which join the fusion's input too, and the cross-feature trees'
margin weighed by a learned scalar added to the logit; optionally a revenue tower, a dense layer and
leaky ReLU of its own on the fusion's output, feeding the revenue head instead of the hidden layer),
with PyTorch's own layers and autograd.

    python3 date_torch.py check IN.json OUT.json
        IN holds the architecture, the weights risklane initialised, one batch
        (with each row's cross-entropy weight, W, when it has them), alpha, the
        label smoothing (LabelSmooth), whether the revenue loss is over every row with the
        licit rows' target 0 (RevAllRows), the Adam settings and the precision (Float64); OUT gets the forward outputs, the loss,
        every parameter's gradient and the parameters after one Adam step.
    python3 date_torch.py bench IN.json
        trains for the epochs IN gives on its batch data and prints seconds.
"""
import json
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class DATE(nn.Module):
    def __init__(self, a):
        super().__init__()
        d, T = a["Dim"], a["Trees"]
        self.d, self.T, self.heads, self.self_att = d, T, a["Heads"], a["SelfAtt"]
        self.leaf = nn.Embedding(a["Leaves"], d)
        self.importer = nn.Embedding(a["Importers"], d)
        self.item = nn.Embedding(a["Items"], d)
        if self.self_att:
            self.sa_q, self.sa_k = nn.Linear(d, d), nn.Linear(d, d)
            self.sa_v, self.sa_o = nn.Linear(d, d), nn.Linear(d, d)
            self.ln = nn.LayerNorm((T, d))
        self.att = nn.Linear(2 * d, d)
        self.att_h = nn.Parameter(torch.zeros(d))
        self.fuse = nn.Linear(3 * d + a.get("RevIn", 0), d)
        self.hid = nn.Linear(d, d)
        self.cls = nn.Linear(d, 1)
        self.rev_hid = a.get("RevHid", 0)
        if self.rev_hid:
            self.rev = nn.Linear(d, self.rev_hid)
        self.reg = nn.Linear(self.rev_hid or d, 1)
        self.rev_in = a.get("RevIn", 0)
        self.margin = a.get("Margin", False)
        if self.margin:
            self.cls_m = nn.Parameter(torch.zeros(1))
            self.register_buffer("lv", torch.zeros(a["Leaves"]))
        if self.rev_in:
            self.reg_x = nn.Linear(self.rev_in, 1, bias=False)

    def named(self):
        """The parameters under risklane's tensor names."""
        m = {"leaf": self.leaf.weight, "importer": self.importer.weight, "item": self.item.weight,
             "att_w": self.att.weight, "att_b": self.att.bias, "att_h": self.att_h,
             "fuse_w": self.fuse.weight, "fuse_b": self.fuse.bias, "hid_w": self.hid.weight,
             "hid_b": self.hid.bias, "cls_w": self.cls.weight, "cls_b": self.cls.bias,
             "reg_w": self.reg.weight, "reg_b": self.reg.bias}
        if self.self_att:
            for p in "qkvo":
                lin = getattr(self, "sa_" + p)
                m["sa_w" + p], m["sa_b" + p] = lin.weight, lin.bias
            m["ln_g"], m["ln_b"] = self.ln.weight, self.ln.bias
        if self.rev_in:
            m["reg_x"] = self.reg_x.weight
        if self.rev_hid:
            m["rev_w"], m["rev_b"] = self.rev.weight, self.rev.bias
        if self.margin:
            m["cls_m"] = self.cls_m
        return m

    def forward(self, leaves, imp, item, x):
        B, T, d, H = leaves.shape[0], self.T, self.d, self.heads
        L = self.leaf(leaves)  # B,T,d
        if self.self_att:
            dh = d // H
            def split(x):
                return x.view(B, T, H, dh).transpose(1, 2)  # B,H,T,dh
            q = split(F.relu(self.sa_q(L)))
            k = split(F.relu(self.sa_k(L)))
            v = split(F.relu(self.sa_v(L)))
            A = torch.softmax(q @ k.transpose(-1, -2) / dh ** 0.5, dim=-1)
            o = (A @ v).transpose(1, 2).reshape(B, T, d)
            L = self.ln(F.relu(self.sa_o(o)))
        u, v = self.importer(imp), self.item(item)
        query = (u * v).unsqueeze(1).expand(B, T, d)
        P = F.relu(self.att(torch.cat((query, L), dim=-1)))
        w = torch.softmax(P @ self.att_h, dim=1)  # B,T
        s = (w.unsqueeze(-1) * L).sum(dim=1)
        f = F.leaky_relu(self.fuse(torch.cat((u, v, s, x), dim=-1)), 0.01)
        h = F.leaky_relu(self.hid(f), 0.01)
        r = F.leaky_relu(self.rev(f), 0.01) if self.rev_hid else h
        rev = self.reg(r).squeeze(-1)
        if self.rev_in:
            rev = rev + self.reg_x(x).squeeze(-1)
        logit = self.cls(h).squeeze(-1)
        if self.margin:
            logit = logit + self.cls_m * self.lv[leaves].sum(dim=1)
        return logit, rev


def loss_of(model, b, alpha, smooth=0.0, all_rows=False):
    logit, rev = model(b["leaves"], b["imp"], b["item"], b["x"])
    y = b["y"]
    target = y * (1 - smooth) + smooth / 2
    bce = F.binary_cross_entropy_with_logits(logit, target, weight=b.get("w"))
    rev_target = b["rev"]
    zero = torch.zeros_like(y)
    if "revenue" in b:
        # the revenue relative to the row's base: log1p(revenue) - base,
        # standardised by its (population) mean and sd over the illicit rows
        ratio = torch.log1p(b["revenue"]) - b["base"]
        ill = ratio[y > 0]
        mean = ill.mean()
        sd = ((ill - mean) ** 2).mean().sqrt()
        rev_target = (ratio - mean) / sd
        zero = (torch.log1p(torch.zeros_like(y)) - b["base"] - mean) / sd
    if all_rows:
        # every row regressed, a licit row's target that of a revenue of 0
        reg = F.mse_loss(rev, torch.where(y > 0, rev_target, zero))
    else:
        reg = (y * (rev - rev_target) ** 2).mean()
    return logit, rev, bce + alpha * reg


def load(cfg):
    dtype = torch.float64 if cfg.get("Float64") else torch.float32
    torch.set_default_dtype(dtype)
    a = cfg["Arch"]
    model = DATE(a)
    with torch.no_grad():
        for name, p in model.named().items():
            p.copy_(torch.tensor(cfg["Params"][name]).view(p.shape))
        if model.margin:
            model.lv.copy_(torch.tensor(cfg["LeafValues"]))
    return model


def batch(cfg, T):
    b = cfg["Batch"]
    out = {"leaves": torch.tensor(b["Leaves"], dtype=torch.long).view(-1, T),
            "imp": torch.tensor(b["Imp"], dtype=torch.long),
            "item": torch.tensor(b["Item"], dtype=torch.long),
            "y": torch.tensor(b["Y"], dtype=torch.get_default_dtype()),
            "rev": torch.tensor(b["Rev"], dtype=torch.get_default_dtype()),
            "x": torch.tensor(b["X"] or [], dtype=torch.get_default_dtype()).view(len(b["Y"]), -1)}
    if b.get("W"):
        out["w"] = torch.tensor(b["W"], dtype=torch.get_default_dtype())
    if cfg.get("Revenue"):
        out["revenue"] = torch.tensor(cfg["Revenue"], dtype=torch.float64).to(torch.get_default_dtype())
        out["base"] = torch.tensor(b["Base"], dtype=torch.get_default_dtype())
    return out


def adam(model, o):
    return torch.optim.Adam(model.parameters(), lr=o["LR"], betas=(o["Beta1"], o["Beta2"]),
                            eps=o["Eps"], weight_decay=o["WeightDecay"])


def check(inp, out):
    cfg = json.load(open(inp))
    torch.set_num_threads(1)
    model = load(cfg)
    b = batch(cfg, cfg["Arch"]["Trees"])
    logit, rev, loss = loss_of(model, b, cfg["Alpha"], cfg.get("LabelSmooth", 0.0), cfg.get("RevAllRows", False))
    opt = adam(model, cfg["Adam"])
    opt.zero_grad()
    loss.backward()
    named = model.named()
    res = {"Logit": logit.tolist(), "Rev": rev.tolist(), "Loss": loss.item(),
           "Grad": {n: p.grad.flatten().tolist() for n, p in named.items()}}
    opt.step()
    res["Stepped"] = {n: p.detach().flatten().tolist() for n, p in named.items()}
    json.dump(res, open(out, "w"))


def bench(inp):
    cfg = json.load(open(inp))
    torch.set_num_threads(cfg.get("Threads", 2))
    torch.manual_seed(0)
    model = load(cfg)
    b = batch(cfg, cfg["Arch"]["Trees"])
    n = b["y"].shape[0]
    opt = adam(model, cfg["Adam"])
    start = time.time()
    for _ in range(cfg["Epochs"]):
        perm = torch.randperm(n)
        for i in range(0, n, cfg["BatchSize"]):
            idx = perm[i:i + cfg["BatchSize"]]
            mb = {k: v[idx] for k, v in b.items()}
            _, _, loss = loss_of(model, mb, cfg["Alpha"])
            opt.zero_grad()
            loss.backward()
            opt.step()
    print(json.dumps({"Seconds": time.time() - start, "Rows": n}))


if __name__ == "__main__":
    if sys.argv[1] == "check":
        check(sys.argv[2], sys.argv[3])
    else:
        bench(sys.argv[2])
