#!/usr/bin/env python3
"""The PyTorch side of backend-cudnn/device-check.sh: times the peer model (torch_mspx.py, the same
architecture as mspx) on the GPU, as DeviceBench times mspx's cudnn backend.

torch_mspx.py's own step-bench and sample-bench run on the CPU only; this imports its model code and
runs the same measurements on a CUDA device:
  - fashion28 training step (batch 32): torch_mspx.train_step (forward, mean bits/dim, backward,
    Adam), median over --steps after --warmup, with torch.cuda.synchronize around each step;
  - speed512 sampling of one --size x --size image with the model's own sampler, median over
    --repeats after one warm-up draw.
Both with cuDNN's TF32 off (float32 convolutions, as mspx's default) and on (PyTorch's default).

Usage: peer_gpu_bench.py --peer torch_mspx.py --out peer-bench.json [--device cuda] [--steps 20]
       [--warmup 3] [--batch 32] [--size 512] [--repeats 3] [--train-config fashion28]
       [--sample-config speed512]
Prints progress on stderr, writes one JSON object to --out; exit status 2 without a CUDA device.
"""

import argparse
import importlib.util
import json
import statistics
import sys
import time


def load_peer(path):
    spec = importlib.util.spec_from_file_location("torch_mspx", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["torch_mspx"] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


def sync(torch, device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def step_bench(peer, torch, device, args):
    cfg = peer.CONFIGS[args.train_config]
    torch.manual_seed(0)
    model = peer.build_model(cfg).to(device).train()
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-3)
    gen = torch.Generator(device=device).manual_seed(0)
    times, loss = [], float("nan")
    for i in range(args.warmup + args.steps):
        x = torch.randint(0, cfg.levels, (args.batch, cfg.channels, cfg.size, cfg.size),
                          generator=gen, device=device, dtype=torch.uint8)
        sync(torch, device)
        t0 = time.perf_counter()
        loss = peer.train_step(model, optimiser, x)  # .item() inside waits for the GPU too
        sync(torch, device)
        seconds = time.perf_counter() - t0
        print(f"{cfg.name} step {i}: {seconds:.4f} s, {loss:.4f} bits/dim", file=sys.stderr)
        if i >= args.warmup:
            times.append(seconds)
    return {"config": cfg.name, "batch": args.batch, "warmup": args.warmup,
            "median_s": round(statistics.median(times), 6), "min_s": round(min(times), 6),
            "times_s": [round(t, 6) for t in times], "last_loss_bpd": round(loss, 4)}


def sample_bench(peer, torch, device, args):
    cfg = peer.CONFIGS[args.sample_config]
    torch.manual_seed(0)
    model = peer.build_model(cfg).to(device).eval()
    gen = torch.Generator(device=device).manual_seed(0)
    times, timings, image = [], [], None
    for i in range(1 + args.repeats):
        timings = []
        sync(torch, device)
        t0 = time.perf_counter()
        with torch.no_grad():
            image = model.sample(1, args.size, None, gen, timings)
        sync(torch, device)
        seconds = time.perf_counter() - t0
        print(f"{cfg.name} sample at {args.size}: {seconds:.4f} s", file=sys.stderr)
        if i >= 1:
            times.append(seconds)
    return {"config": cfg.name, "size": args.size, "batch": 1, "median_s": round(statistics.median(times), 6),
            "times_s": [round(t, 6) for t in times],
            "stages_s_last": {stage: round(t, 6) for stage, t in timings},
            "mean_level": round(float(image.float().mean()), 2)}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--peer", required=True, help="path of torch_mspx.py")
    p.add_argument("--out", required=True, help="JSON file to write")
    p.add_argument("--device", default="cuda")
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--size", type=int, default=512)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--train-config", default="fashion28")
    p.add_argument("--sample-config", default="speed512")
    args = p.parse_args(argv)

    peer = load_peer(args.peer)
    import torch
    result = {"torch": torch.__version__, "cuda": torch.version.cuda,
              "cudnn": torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None}
    device = torch.device(args.device)
    if device.type == "cuda":
        if not torch.cuda.is_available():
            result["error"] = "torch.cuda.is_available() is False: no CUDA device for the peer"
            write(args.out, result)
            print(result["error"], file=sys.stderr)
            return 2
        result["device"] = torch.cuda.get_device_name(device)
        # The peer makes its sampling buffers with torch.zeros/torch.empty and no device argument.
        if not hasattr(torch, "set_default_device"):
            result["error"] = f"torch {torch.__version__} has no set_default_device: GPU sampling needs torch >= 2.0"
            write(args.out, result)
            return 1
        torch.set_default_device(device)
    else:
        result["device"] = "cpu"
    runs = {}
    for tf32 in (False, True):
        torch.backends.cudnn.allow_tf32 = tf32
        torch.backends.cuda.matmul.allow_tf32 = tf32
        name = "tf32_on" if tf32 else "tf32_off"
        runs[name] = {"step": step_bench(peer, torch, device, args),
                      "sample": sample_bench(peer, torch, device, args)}
        result["runs"] = runs
        write(args.out, result)
    print(f"peer_gpu_bench: wrote {args.out}", file=sys.stderr)
    return 0


def write(path, result):
    with open(path, "w") as f:
        json.dump(result, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    sys.exit(main())
