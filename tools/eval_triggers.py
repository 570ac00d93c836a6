"""`make eval`: shake and fall detectors measured on real accelerometer data -> build/reports/triggers.md.

Data (read in place, never copied): $DEME_SHARED_DATA/imu/sisfall (SisFall, 4,505 waist recordings at 100 Hz:
D01-D19 activities, F01-F15 falls) and imu/wiimote_shake (UCR GestureWiimote "shake", one axis). Everything goes
through the device path: resampled to 100 Hz, clipped to +-8 g, integer detectors from drivers/ (the firmware's
code). Subjects are split: TUNE (odd numbers: SA01, SA03, ..., SE01, ...) on which parameters were chosen, and
HELD-OUT (even numbers); both are reported.

Usage: python -m tools.eval_triggers [--data DIR] [--out FILE] [--workers 2] [--limit N]
       python -m tools.eval_triggers --quick [--split tune|held-out|all] [--variant NAME=JSON ...] [--diagnose]
              [--falls] [--per-subject] [--synthetic N]      (tuning loop, no report; see quick_main)
"""
import argparse
import csv
import json
import os
import random
import sys
import time
from multiprocessing import Pool
from pathlib import Path

from drivers.fall import FallDetector
from drivers.shake import DEFAULT_SENSITIVITY, SENSITIVITY, ShakeDetector
from hub.recordings import load
from sim.motion import synthetic_bus_ride, synthetic_clapping, synthetic_shake, wiimote_shakes, wiimote_to_device

REPO = Path(__file__).resolve().parents[1]
LATENCY_MS = 1500
NAIVE_MG = 3000
NAIVE_REFRACTORY_MS = 5000
SEED = 20261123
SISFALL_UPRIGHT = (0, -1000, 0)  # SisFall's belt-worn sensor reads about this when the subject stands
# Operating characteristic: detector rule sets run at every sensitivity. "issue 4" = the rules before issue 5
# (45-degree vertical cone with a 1.7x margin and no 2.2 g floor, calm start at 80 % with 4 excursions, no big-swing
# shortcut, no warm-up), re-run on today's code (whose vertical test rounds gravity to 32 mg: the figures can differ
# by an alarm or a trial from that run's).
OC_RULES = {
    "default": {},
    "issue 4": {"vertical_pct": 170, "vertical_cos2_pct": 50, "vertical_min_mg": 0, "low_excursions": 4, "big_pct": 0,
                "warmup": False, "low_pct": 80},
}


def oc_kwargs(rules, sensitivity):
    """ShakeDetector keyword arguments of a rule set at a sensitivity ("low_pct" -> low_mg of that sensitivity)."""
    kw = dict(OC_RULES[rules])
    if "low_pct" in kw:
        kw["low_mg"] = SENSITIVITY[sensitivity][0] * kw.pop("low_pct") // 100
    return kw
NAIVE_OC_MG = (2000, 3000, 4000)
# Clapping starts after 2 s of stillness: with the former 0.5 s, the shake detector's 1.28 s warm-up after reset
# hid applause that starts from a still hand (7 of 300 bouts fire without the warm-up).
CLAP_LEAD_S = 2.0


class NaiveThreshold:
    """The baseline: |a| > 3 g fires (then 5 s of silence)."""

    def __init__(self, threshold_mg=NAIVE_MG):
        self.sq = threshold_mg * threshold_mg
        self.quiet_until = None

    def update(self, ax, ay, az, t):
        if self.quiet_until is not None and t < self.quiet_until:
            return None
        if ax * ax + ay * ay + az * az > self.sq:
            self.quiet_until = t + NAIVE_REFRACTORY_MS
            return t
        return None


def first_hit(detector, samples, not_before=None):
    for t, x, y, z in samples:
        r = detector.update(x, y, z, t)
        if r is not None and (not_before is None or t >= not_before):
            return t
    return None


def count_hits(detector, samples):
    n = 0
    times = []
    for t, x, y, z in samples:
        if detector.update(x, y, z, t) is not None:
            n += 1
            times.append(t)
    return n, times


def subject_split(subject):
    return "tune" if int(subject[2:]) % 2 == 1 else "held-out"


# -- SisFall, one file per task ----------------------------------------------------------------------------------

def sisfall_task(args):
    root, row = args
    samples = load(os.path.join(root, row["file"]))
    shake = {}
    for s in SENSITIVITY:
        n, times = count_hits(ShakeDetector(sensitivity=s), samples)
        shake[s] = (n, times[:5])
    naive_n, _ = count_hits(NaiveThreshold(), samples)
    oc = {}
    for rules, kw in OC_RULES.items():
        for s in SENSITIVITY:
            oc[(rules, s)] = shake[s][0] if not kw else count_hits(
                ShakeDetector(sensitivity=s, **oc_kwargs(rules, s)), samples)[0]
    for mg in NAIVE_OC_MG:
        oc[("naive", mg)] = naive_n if mg == NAIVE_MG else count_hits(NaiveThreshold(mg), samples)[0]
    fall = FallDetector()
    fall_hits = []
    for t, x, y, z in samples:
        r = fall.update(x, y, z, t)
        if r is not None:
            fall_hits.append((r[1], t))
    upright = FallDetector(upright=SISFALL_UPRIGHT)
    upright_hits = 0
    for t, x, y, z in samples:
        if upright.update(x, y, z, t) is not None:
            upright_hits += 1
    peak = max(x * x + y * y + z * z for _, x, y, z in samples) ** 0.5 if samples else 0
    return {
        "file": row["file"], "code": row["code"], "subject": row["subject"], "n": len(samples),
        "shake": shake, "naive": naive_n, "fall": fall_hits, "naive_fall": peak > NAIVE_MG,
        "fall_upright": upright_hits, "oc": oc,
    }


# -- shakes ------------------------------------------------------------------------------------------------------

def detector_latency(det, samples, onset):
    """Latency (ms) of the first firing at or after onset - 500 ms, or None."""
    update = det.update
    not_before = onset - 500
    for t, x, y, z in samples:
        if update(x, y, z, t) is not None and t >= not_before:
            return t - onset
    return None


def shake_trial(samples, onset, sensitivity=DEFAULT_SENSITIVITY):
    """(detected within LATENCY_MS, latency ms or None, naive detected within LATENCY_MS)."""
    latency = detector_latency(ShakeDetector(sensitivity=sensitivity), samples, onset)
    naive = NaiveThreshold()
    nl = None
    for t, x, y, z in samples:
        if t >= onset - 500 and naive.update(x, y, z, t) is not None:
            nl = t - onset
            break
        elif t < onset - 500:
            naive.update(x, y, z, t)
    ok = latency is not None and latency <= LATENCY_MS
    nok = nl is not None and nl <= LATENCY_MS
    return ok, latency, nok


def oc_trial(samples, onset):
    """{(rules, sensitivity) or ("naive", mg): detected within LATENCY_MS} for the operating-characteristic table."""
    out = {}
    for rules in OC_RULES:
        for s in SENSITIVITY:
            lat = detector_latency(ShakeDetector(sensitivity=s, **oc_kwargs(rules, s)), samples, onset)
            out[(rules, s)] = lat is not None and lat <= LATENCY_MS
    for mg in NAIVE_OC_MG:
        lat = detector_latency(NaiveThreshold(mg), samples, onset)
        out[("naive", mg)] = lat is not None and lat <= LATENCY_MS
    return out


def wiimote_task(args):
    path, idx, label, values, scale, reps = args
    out = []
    for r in range(reps):
        rng = random.Random(SEED + idx * 101 + r)
        samples, onset = wiimote_to_device(values, rng, scale_to_g=scale)
        det_ok, lat, naive_ok = shake_trial(samples, onset)
        out.append((label, det_ok, lat, naive_ok, oc_trial(samples, onset)))
    return out


def synthetic_task(args):
    seed, background = args
    rng = random.Random(seed)
    samples, onset, params = synthetic_shake(rng, background=background)
    res = {}
    for s in SENSITIVITY:
        ok, lat, nok = shake_trial(samples, onset, sensitivity=s)
        res[s] = (ok, lat)
    return params, res, nok, oc_trial(samples, onset)


def negative_task(args):
    kind, seed = args
    rng = random.Random(seed)
    samples = synthetic_clapping(rng, lead_s=CLAP_LEAD_S) if kind == "clapping" else synthetic_bus_ride(rng)
    shakes = {s: count_hits(ShakeDetector(sensitivity=s), samples)[0] for s in SENSITIVITY}
    falls = count_hits(FallDetector(), samples)[0]
    naive = count_hits(NaiveThreshold(), samples)[0]
    oc = {}
    for rules, kw in OC_RULES.items():
        for s in SENSITIVITY:
            oc[(rules, s)] = shakes[s] if not kw else count_hits(
                ShakeDetector(sensitivity=s, **oc_kwargs(rules, s)), samples)[0]
    for mg in NAIVE_OC_MG:
        oc[("naive", mg)] = count_hits(NaiveThreshold(mg), samples)[0]
    return kind, len(samples), shakes, falls, naive, oc


def wiimote_split(label):
    """Wiimote subjects 1, 3, 5, 7, 9 were looked at while tuning the shake detector; 2, 4, 6, 8, 10 were not."""
    return "tune" if int(label) % 2 == 1 else "held-out"


def wiimote_split_lines(trials):
    out = []
    for split in ("tune", "held-out"):
        ts = [t for t in trials if wiimote_split(t[0]) == split]
        ok = sum(1 for t in ts if t[1])
        nok = sum(1 for t in ts if t[3])
        subjects = ", ".join(sorted({t[0] for t in ts}, key=int))
        out.append(f"- {split} (subjects {subjects}): {ok} / {len(ts)} ({pct(ok, len(ts))}); naive "
                   f"{pct(nok, len(ts))}")
    return out + [""]


def wiimote_stats(recs):
    """Rhythm, strength, length and amplitude of the real shakes, as the synthetic model's evidence."""
    halves, ratios, peaks, counts, durations, amps = [], [], [], [], [], []
    for _label, values in recs:
        m = sum(values) / len(values)
        d = [v - m for v in values]
        mags = sorted(abs(v) for v in d)
        p = mags[int(0.95 * (len(mags) - 1))] or 1e-3
        amps.append(p)
        ex = []  # (start index, peak) of each excursion beyond 0.4 p95, alternating in sign
        sign = 0
        for k, v in enumerate(d):
            sg = 1 if v >= 0.4 * p else -1 if v <= -0.4 * p else 0
            if sg and sg != sign:
                ex.append([k, abs(v)])
                sign = sg
            elif sg and sg == sign:
                ex[-1][1] = max(ex[-1][1], abs(v))
        hs = [b[0] - a[0] for a, b in zip(ex, ex[1:], strict=False) if 4 <= b[0] - a[0] <= 30]
        halves += hs
        ratios += [max(a, b) / min(a, b) for a, b in zip(hs, hs[1:], strict=False)]
        peaks += [e[1] / p for e in ex]
        counts.append(len(ex))
        active = [k for k, v in enumerate(d) if abs(v) >= 0.5 * p]
        durations.append((active[-1] - active[0]) / 100.0)

    def q(xs, f):
        xs = sorted(xs)
        return xs[int(f * (len(xs) - 1))]

    return [
        f"half-cycle {10 * q(halves, 0.1)}-{10 * q(halves, 0.9)} ms (p10-p90; median {10 * q(halves, 0.5)} ms, "
        f"{50 / q(halves, 0.5):.1f} Hz)",
        f"consecutive half-cycles differ by a median {q(ratios, 0.5):.2f}x (p90 {q(ratios, 0.9):.2f}x); "
        f"{pct(sum(1 for r in ratios if r > 1.7), len(ratios))} of pairs by more than 1.7x",
        f"excursion peaks {q(peaks, 0.1):.2f}-{q(peaks, 0.9):.2f}x the recording's p95 (p10-p90)",
        f"excursions per shake {min(counts)}-{max(counts)} (median {q(counts, 0.5)}); active for "
        f"{q(durations, 0.1):.2f}-{q(durations, 0.9):.2f} s (p10-p90, median {q(durations, 0.5):.2f} s)",
        f"one-axis p95 amplitude {q(amps, 0.1):.2f}-{q(amps, 0.9):.2f} g (p10-p90, median {q(amps, 0.5):.2f} g); "
        "the Wiimote's +-3 g sensor saturates near 4 g",
    ]


# -- quick loop: detector variants and per-rule diagnostics on one split ------------------------------------------
#
# `--quick` runs named variants of the shake detector (ShakeDetector keyword arguments as JSON) on one subject split
# and prints, for each, the false alarms on SisFall (activities and falls) and synthetic clapping, and the detection
# rates on the split's Wiimote shakes (as recorded and at 3 g) and on synthetic shakes. `--diagnose` adds one
# variant per rule with that rule switched off or loosened: what each rule costs in missed real shakes (the shakes it
# alone rejects) and what it buys in false alarms (the SisFall files that fire without it). The data is read once
# in the parent; the worker processes inherit it.

_Q = {}


def relaxations(base):
    """(rule, keyword arguments that switch it off or loosen it) for a variant `base` (a dict of kwargs)."""
    sens = base.get("sensitivity", DEFAULT_SENSITIVITY)
    thr, exc = SENSITIVITY[sens]
    thr = base.get("threshold_mg", thr)
    exc = base.get("excursions", exc)
    probe = ShakeDetector(**base)
    return [
        ("vertical margin", {"vertical_pct": 100}),
        ("vertical cone 55 -> 45 deg", {"vertical_cos2_pct": 50}),
        ("vertical floor 2.2 g", {"vertical_min_mg": 0}),
        ("big swings: 3 excursions", {"big_pct": 0}),
        ("warm-up after reset", {"warmup": False}),
        ("alignment 32 deg", {"align_pct": 0}),
        ("rhythm ratio", {"ratio_pct": 0}),
        ("half-cycle 45-250 ms", {"half_min_ms": 20, "half_max_ms": 400}),
        ("burst gate 2.5 s", {"run_max_ms": 0}),
        ("calm-start 2 s limit", {"low_run_ms": 100000}),
        ("one excursion fewer", {"excursions": exc - 1, "low_excursions": probe.low_excursions - 1}),
        ("calm start 3 -> 4 excursions", {"low_excursions": 4}),
        ("threshold -20 %", {"threshold_mg": thr * 4 // 5}),
        ("calm-start threshold -20 %", {"low_mg": probe.low_mg * 4 // 5}),
    ]


def _quick_task(args):
    vi, kind, lo, hi = args
    kw = _Q["variants"][vi][1]
    out = []
    for item in _Q[kind][lo:hi]:
        if kind in ("adl", "fall", "clap"):
            out.append(count_hits(ShakeDetector(**kw), item[1])[0])
        else:
            samples, onset = item[1], item[2]
            out.append(detector_latency(ShakeDetector(**kw), samples, onset))
    return vi, kind, lo, out


def _quick_load(args, rows, root, wii_recs):
    split = args.split
    mine = [r for r in rows if split == "all" or subject_split(r["subject"]) == split]
    _Q["adl"] = [(r["file"], load(os.path.join(root, r["file"]))) for r in mine if r["code"].startswith("D")]
    _Q["fall"] = [(r["file"], load(os.path.join(root, r["file"]))) for r in mine
                  if r["code"].startswith("F")] if args.falls else []
    for kind, scale in (("wii", None), ("wii3", 3.0)):
        trials = []
        for i, (label, values) in enumerate(wii_recs):
            if split != "all" and wiimote_split(label) != split:
                continue
            for r in range(10):
                samples, onset = wiimote_to_device(values, random.Random(SEED + i * 101 + r), scale_to_g=scale)
                trials.append((label, samples, onset, i))
        _Q[kind] = trials
    synth = []
    for i in range(args.synthetic):
        samples, onset, params = synthetic_shake(random.Random(SEED + i))
        synth.append((params, samples, onset))
    _Q["synth"] = synth
    _Q["clap"] = [(i, synthetic_clapping(random.Random(SEED + 90000 + i), lead_s=CLAP_LEAD_S))
                  for i in range(args.synthetic // 5)]


def quick_main(args, rows, root, wii_recs):
    started = time.monotonic()
    _quick_load(args, rows, root, wii_recs)
    hours = sum(len(x[1]) for x in _Q["adl"]) / 360000.0
    print(f"quick ({args.split}): {len(_Q['adl'])} activity files ({hours:.2f} h), {len(_Q['fall'])} fall files, "
          f"{len(_Q['wii'])} Wiimote trials, {len(_Q['synth'])} synthetic shakes, {len(_Q['clap'])} clapping bouts; "
          f"loaded in {time.monotonic() - started:.1f} s", flush=True)
    variants = [("base", {})]
    for spec in args.variant:
        name, _, js = spec.partition("=")
        variants.append((name, json.loads(js) if js else {}))
    if args.diagnose:
        base = variants[0][1] if len(variants) == 1 else variants[1][1]
        variants += [(f"no {rule}", {**base, **kw}) for rule, kw in relaxations(base)]
    _Q["variants"] = variants
    tasks = []
    for vi in range(len(variants)):
        for kind in ("adl", "fall", "wii", "wii3", "synth", "clap"):
            n = len(_Q[kind])
            step = max(1, n // 8)
            tasks += [(vi, kind, lo, min(n, lo + step)) for lo in range(0, n, step)]
    res = {}
    with Pool(args.workers) as pool:
        for vi, kind, lo, out in pool.imap_unordered(_quick_task, tasks):
            r = res.setdefault((vi, kind), [None] * len(_Q[kind]))
            r[lo:lo + len(out)] = out
    ok = {}
    for vi, (name, kw) in enumerate(variants):
        adl = res[(vi, "adl")]
        fa_files = [f"{_Q['adl'][i][0].split('/')[-1][:-7]}:{n}" for i, n in enumerate(adl) if n]
        line = [f"{name:34s}", f"FA {sum(adl):3d} ({sum(adl) / hours:.3f}/h)"]
        if _Q["fall"]:
            line.append(f"falls-FA {sum(res[(vi, 'fall')])}")
        line.append(f"clap {sum(res[(vi, 'clap')])}")
        for kind in ("wii", "wii3", "synth"):
            hits = [lat is not None and lat <= LATENCY_MS for lat in res[(vi, kind)]]
            ok[(vi, kind)] = hits
            line.append(f"{kind} {pct(sum(hits), len(hits)):>7s}")
        print("  ".join(line) + ("  " + kw_text(kw) if kw else ""))
        if _Q["fall"]:
            fa_files += [f"{_Q['fall'][i][0].split('/')[-1][:-7]}:{n}" for i, n in enumerate(res[(vi, "fall")]) if n]
        if fa_files:
            print("      false alarms: " + " ".join(fa_files[:30]))
        if args.per_subject:
            for kind in ("wii", "wii3"):
                by = {}
                for (label, *_), hit in zip(_Q[kind], ok[(vi, kind)], strict=True):
                    by.setdefault(label, []).append(hit)
                print(f"      {kind} per subject: " + ", ".join(
                    f"{k}: {sum(v) * 10 // len(v)}/10" for k, v in sorted(by.items(), key=lambda kv: int(kv[0]))))
    if args.diagnose:
        b = 0 if len(variants) == len(relaxations({})) + 1 else 1
        print("\nper rule (base = " + variants[b][0] + "): real shakes it alone rejects (rescued when it is "
              "switched off) and false alarms it prevents")
        print(f"{'rule':34s} {'wii':>5s} {'wii3':>5s} {'synth':>5s}  alarms added: falls, clapping, "
              "SisFall activities (files)")
        nrel = len(relaxations({}))
        for vi in range(len(variants) - nrel, len(variants)):
            resc = {k: sum(1 for a, c in zip(ok[(b, k)], ok[(vi, k)], strict=True) if c and not a)
                    for k in ("wii", "wii3", "synth")}
            added = sum(res[(vi, "adl")]) - sum(res[(b, "adl")])
            files = sorted({_Q["adl"][i][0].split("/")[-1][:-7] for i, n in enumerate(res[(vi, "adl")])
                            if n > res[(b, "adl")][i]})
            more = [sum(res[(vi, k)]) - sum(res[(b, k)]) for k in ("fall", "clap")]
            print(f"{variants[vi][0]:34s} {resc['wii']:5d} {resc['wii3']:5d} {resc['synth']:5d}  {more[0]:+d}, "
                  f"{more[1]:+d}, {added:+d} "
                  f"({', '.join(files[:12])}{' ...' if len(files) > 12 else ''})")
        for k in ("wii", "wii3", "synth"):
            missed = [i for i, hit in enumerate(ok[(b, k)]) if not hit]
            none = sum(1 for i in missed if not any(ok[(vi, k)][i] for vi in range(len(variants) - nrel,
                                                                                   len(variants))))
            print(f"{k}: {len(missed)} missed by the base, {none} of them rescued by no single rule "
                  "(too weak or too short for any one relaxation)")
        rel = range(len(variants) - nrel, len(variants))
        for k in ("wii", "wii3"):
            print(f"\nper {k} recording missed by the base (of its 10 orientations): the rules whose relaxation "
                  "rescues them, and how many no single rule rescues")
            by_rec = {}
            for t, (label, _s, _o, rec) in enumerate(_Q[k]):
                by_rec.setdefault((rec, label), []).append(t)
            for (rec, label), ts in sorted(by_rec.items()):
                missed = [t for t in ts if not ok[(b, k)][t]]
                if not missed:
                    continue
                rescue = [(variants[vi][0][3:], sum(1 for t in missed if ok[(vi, k)][t])) for vi in rel]
                none = sum(1 for t in missed if not any(ok[(vi, k)][t] for vi in rel))
                print(f"  recording {rec:2d} (subject {label}): missed {len(missed)}/{len(ts)}; "
                      + ", ".join(f"{r} {n}" for r, n in rescue if n) + f"{'; ' if any(n for _, n in rescue) else ''}"
                      f"none {none}")
    print(f"quick: {time.monotonic() - started:.1f} s")
    return 0


def kw_text(kw):
    return " ".join(f"{k}={v}" for k, v in kw.items())


# -- report ------------------------------------------------------------------------------------------------------

def rate_bound(events, hours):
    """Events per hour and the one-sided 95 % upper bound (exact Poisson for 0..5 events)."""
    upper = {0: 3.00, 1: 4.74, 2: 6.30, 3: 7.75, 4: 9.15, 5: 10.51}
    u = upper.get(events, events + 1.96 * events ** 0.5 + 2)
    return events / hours if hours else 0.0, u / hours if hours else 0.0


def pct(a, b):
    return f"{100.0 * a / b:.1f} %" if b else "n/a"


def median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2] if xs else None


def p95(xs):
    xs = sorted(xs)
    return xs[int(0.95 * (len(xs) - 1))] if xs else None


def build_report(results, wii, wii_scaled, synth, synth_walk, elapsed, files_total, bench_lines, split_note,
                 negatives=(), wii_stats=()):
    lines = ["# Triggers: shake and fall detection measured on real accelerometer data", ""]
    lines += [
        "Generated by `tools/eval_triggers.py` (`make eval`). Detectors: `drivers/shake.py`, `drivers/fall.py` "
        "(the firmware's code, integer arithmetic), fed through the device path (100 Hz, clipped to +-8 g).",
        f"SisFall files processed: {files_total}; elapsed {elapsed:.1f} s on 2 worker processes.",
        "", split_note, "",
    ]
    adl = [r for r in results if r["code"].startswith("D")]
    falls = [r for r in results if r["code"].startswith("F")]
    # --- false shake alarms
    lines += ["## False shake alarms on SisFall activities (D01-D19)", "",
              "Shake alarms per hour of activity (default sensitivity "
              f"{DEFAULT_SENSITIVITY}), with the one-sided 95 % upper bound (Poisson); naive = |a| > 3 g.", "",
              "| code | activity | files | hours | alarms | per hour | 95 % upper / h | naive alarms | naive / h |",
              "|---|---|---|---|---|---|---|---|---|"]
    names = {}
    for r in results:
        names.setdefault(r["code"], r.get("activity", ""))
    codes = sorted({r["code"] for r in adl})
    tot_h = tot_a = tot_n = 0
    for code in codes:
        rs = [r for r in adl if r["code"] == code]
        h = sum(r["n"] for r in rs) / 360000.0
        a = sum(r["shake"][DEFAULT_SENSITIVITY][0] for r in rs)
        nv = sum(r["naive"] for r in rs)
        rate, up = rate_bound(a, h)
        tot_h += h
        tot_a += a
        tot_n += nv
        lines.append(f"| {code} | {names.get(code, '')[:48]} | {len(rs)} | {h:.2f} | {a} | {rate:.2f} | {up:.2f} "
                     f"| {nv} | {nv / h if h else 0:.1f} |")
    rate, up = rate_bound(tot_a, tot_h)
    lines.append(f"| **all** | | {len(adl)} | {tot_h:.2f} | {tot_a} | {rate:.3f} | {up:.3f} | {tot_n} | "
                 f"{tot_n / tot_h if tot_h else 0:.1f} |")
    lines += ["", f"Goal: <= 0.001 alarm per hour (1 per 1,000 h). SisFall holds {tot_h:.1f} h of activities, so "
              "even zero alarms only proves a rate below the 95 % bound above: the goal cannot be demonstrated "
              "with this data set, only approached.", ""]
    # per split and per sensitivity
    lines += ["### By subject split and sensitivity", "",
              "| sensitivity | threshold mg / excursions | split | hours | alarms | per hour | 95 % upper / h |",
              "|---|---|---|---|---|---|---|"]
    for s in SENSITIVITY:
        for split in ("tune", "held-out"):
            rs = [r for r in adl if subject_split(r["subject"]) == split]
            h = sum(r["n"] for r in rs) / 360000.0
            a = sum(r["shake"][s][0] for r in rs)
            rate, up = rate_bound(a, h)
            thr, exc = SENSITIVITY[s]
            lines.append(f"| {s} | {thr} / {exc} | {split} | {h:.2f} | {a} | {rate:.3f} | {up:.3f} |")
    fa_files = [(r["file"], r["shake"][DEFAULT_SENSITIVITY][1]) for r in adl if r["shake"][DEFAULT_SENSITIVITY][0]]
    if fa_files:
        lines += ["", "Activity files with a false shake alarm (default sensitivity), alarm times in ms:", ""]
        lines += [f"- `{f}`: {t}" for f, t in fa_files[:40]]
    fall_shakes = sum(r["shake"][DEFAULT_SENSITIVITY][0] for r in falls)
    fall_h = sum(r["n"] for r in falls) / 360000.0
    lines += ["", f"During the fall recordings (F01-F15, {fall_h:.2f} h, walking/sitting then falling): "
              f"{fall_shakes} shake alarm(s); naive: {sum(r['naive'] for r in falls)}.", ""]
    if negatives:
        lines += ["### Synthetic clapping and bus rides (not in SisFall)", "",
                  f"Models in `sim/motion.py`: `synthetic_clapping` (wrist, 2-5 claps/s, 3-8 g impact spikes, after "
                  f"{CLAP_LEAD_S:g} s of stillness) and "
                  "`synthetic_bus_ride` (seated, vibration, bumps up to 2 g, braking).", "",
                  "| activity | bouts | hours | shake alarms s1 / s3 / s5 | fall pre-alarms | naive alarms |",
                  "|---|---|---|---|---|---|"]
        for kind in ("clapping", "bus ride"):
            ns = [x for x in negatives if x[0] == kind]
            h = sum(x[1] for x in ns) / 360000.0
            sa = " / ".join(str(sum(x[2][s] for x in ns)) for s in (1, 3, 5))
            lines.append(f"| {kind} | {len(ns)} | {h:.2f} | {sa} | {sum(x[3] for x in ns)} | "
                         f"{sum(x[4] for x in ns)} |")
        lines.append("")
    # --- shakes
    lines += ["## Shake detection", "",
              f"Detected = the detector fires within {LATENCY_MS} ms of the shake's onset. Latency = firing time "
              "minus onset.", ""]

    def shake_table(title, trials, note):
        ok = sum(1 for t in trials if t[1])
        lats = [t[2] for t in trials if t[1]]
        nok = sum(1 for t in trials if t[3])
        return [f"### {title}", "", note, "",
                "| trials | detected | latency median ms | latency p95 ms | naive detected |", "|---|---|---|---|---|",
                f"| {len(trials)} | {ok} ({pct(ok, len(trials))}) | {median(lats)} | {p95(lats)} | "
                f"{nok} ({pct(nok, len(trials))}) |", ""]

    lines += shake_table(
        "Wiimote shakes as recorded", wii,
        "50 recordings x 10 random axis and gravity orientations. The recording's mean is removed (gravity), the "
        "rest is the hand's acceleration along the Wiimote's z axis, put on a random device axis over gravity. "
        "Onset: first sample at half the recording's 95th-percentile amplitude. These are short UI gestures "
        "(0.4-3.8 s) seen through ONE axis, often not the shake's main one (p95 amplitude 0.3-3.8 g).")
    lines += wiimote_split_lines(wii)
    by_subject = {}
    for label, ok, _lat, _n, _oc in wii:
        by_subject.setdefault(label, [0, 0])
        by_subject[label][0] += ok
        by_subject[label][1] += 1
    lines += ["Per Wiimote subject (label): " + ", ".join(
        f"{k}: {pct(v[0], v[1])}" for k, v in sorted(by_subject.items(), key=lambda kv: int(kv[0]))), ""]
    lines += shake_table(
        "Wiimote shake waveforms at the instructed strength", wii_scaled,
        "The same waveforms (timing, irregularity, ramp-up) scaled so their 95th-percentile amplitude is 3 g: "
        "the 'shake it hard' the wearer is taught. Honest caveat: this rescaling is ours, not measured.")
    lines += wiimote_split_lines(wii_scaled)
    if wii_stats:
        lines += ["What the 50 real shakes look like (one axis, excursions beyond 0.4x the recording's p95; the "
                  "evidence behind the synthetic model's spreads):", ""] + [f"- {x}" for x in wii_stats] + [""]
    # synthetic
    for title, trials in (("Synthetic shakes (model of docs/triggers.md), device still before the shake", synth),
                          ("Synthetic shakes on top of real walking (SisFall D01/D02 of held-out subjects)",
                           synth_walk)):
        if not trials:
            continue
        lines += [f"### {title}", "",
                  "| sensitivity | trials | detected <= 1.5 s | latency median ms | latency p95 ms |",
                  "|---|---|---|---|---|"]
        for s in SENSITIVITY:
            ok = [res[s][1] for _, res, *_ in trials if res[s][0]]
            lines.append(f"| {s} | {len(trials)} | {len(ok)} ({pct(len(ok), len(trials))}) | {median(ok)} | "
                         f"{p95(ok)} |")
        nok = sum(1 for _, _, n, _ in trials if n)
        lines += [f"| naive | {len(trials)} | {nok} ({pct(nok, len(trials))}) | | |", ""]
        lines += ["Default sensitivity by shake frequency, amplitude and wear position:", "",
                  "| group | trials | detected |", "|---|---|---|"]
        groups = []
        for lo, hi in ((2, 3), (3, 3.6), (3.6, 4.5), (4.5, 5.5), (5.5, 7.01)):
            groups.append((f"{lo}-{hi if hi < 7 else 7} Hz", [t for t in trials if lo <= t[0]["freq_hz"] < hi]))
        for lo, hi in ((1.5, 2), (2, 3), (3, 4), (4, 6.01)):
            groups.append((f"{lo}-{hi if hi < 6 else 6} g", [t for t in trials if lo <= t[0]["amp_g"] < hi]))
        for pos in sorted({t[0]["position"] for t in trials}):
            groups.append((pos, [t for t in trials if t[0]["position"] == pos]))
        hard = [t for t in trials if t[0]["amp_g"] >= 3 and t[0]["position"] in ("hand", "wrist", "pendant")]
        groups.append((">= 3 g in hand, on the wrist or a pendant (the instructed hard shake)", hard))
        for name, ts in groups:
            ok = sum(1 for t in ts if t[1][DEFAULT_SENSITIVITY][0])
            lines.append(f"| {name} | {len(ts)} | {ok} ({pct(ok, len(ts))}) |")
        lines.append("")
    lines += oc_section(adl, falls, wii, wii_scaled, synth, negatives)
    # --- falls
    lines += ["## Fall detection (pre-alarm) on SisFall", "",
              "Sensitivity: fall recordings with a pre-alarm. Specificity: activity recordings without one. "
              "Naive: any |a| > 3 g in the recording.", "",
              "| split | falls | sensitivity | activities | specificity | naive sensitivity | naive specificity |",
              "|---|---|---|---|---|---|---|"]
    for split in ("tune", "held-out", "all"):
        fs = [r for r in falls if split == "all" or subject_split(r["subject"]) == split]
        ds = [r for r in adl if split == "all" or subject_split(r["subject"]) == split]
        tp = sum(1 for r in fs if r["fall"])
        tn = sum(1 for r in ds if not r["fall"])
        ntp = sum(1 for r in fs if r["naive_fall"])
        ntn = sum(1 for r in ds if not r["naive_fall"])
        lines.append(f"| {split} | {len(fs)} | {pct(tp, len(fs))} | {len(ds)} | {pct(tn, len(ds))} | "
                     f"{pct(ntp, len(fs))} | {pct(ntn, len(ds))} |")
    fs = falls
    ds = adl
    tp = sum(1 for r in fs if r["fall_upright"])
    tn = sum(1 for r in ds if not r["fall_upright"])
    lines += ["", f"With the wear axis known (`FallDetector(upright={SISFALL_UPRIGHT})`, SisFall's belt mount): a fall "
              f"must start within 60 degrees of upright. Sensitivity {pct(tp, len(fs))}, specificity "
              f"{pct(tn, len(ds))} (all subjects): turning over in bed (D14) stops alarming, falls while getting "
              "up or sitting down (F08-F10, F13) are missed more often.", ""]
    lines += ["", "By age group (SisFall: SA = 23 young adults, SE = 15 elderly people of 60-75 years; among the "
              "elderly only SE06, a judo expert, simulated falls, and none did D06, D13, D18 or D19):", "",
              "| group | activity hours | false shake alarms | falls | fall sensitivity | activities | specificity |",
              "|---|---|---|---|---|---|---|"]
    for prefix in ("SA", "SE"):
        fs = [r for r in falls if r["subject"].startswith(prefix)]
        ds = [r for r in adl if r["subject"].startswith(prefix)]
        h = sum(r["n"] for r in ds) / 360000.0
        fa = sum(r["shake"][DEFAULT_SENSITIVITY][0] for r in ds)
        tp = sum(1 for r in fs if r["fall"])
        tn = sum(1 for r in ds if not r["fall"])
        lines.append(f"| {prefix} | {h:.2f} | {fa} | {len(fs)} | {pct(tp, len(fs))} | {len(ds)} | {pct(tn, len(ds))} |")
    lines += ["", "| code | activity | files | with pre-alarm | naive |", "|---|---|---|---|---|"]
    for code in sorted({r["code"] for r in results}):
        rs = [r for r in results if r["code"] == code]
        k = sum(1 for r in rs if r["fall"])
        nk = sum(1 for r in rs if r["naive_fall"])
        lines.append(f"| {code} | {names.get(code, '')[:48]} | {len(rs)} | {k} ({pct(k, len(rs))}) | "
                     f"{nk} ({pct(nk, len(rs))}) |")
    delays = [at - imp for r in falls for imp, at in r["fall"][:1]]
    lines += ["", f"Pre-alarm delay after the impact: median {median(delays)} ms, p95 {p95(delays)} ms; then the "
              "app's 30 s cancel window.", ""]
    if bench_lines:
        lines += ["## Cost on the device", "", "From `tools/bench_triggers.py` (MicroPython unix port):", "", "```"]
        lines += bench_lines + ["```", ""]
    return "\n".join(lines) + "\n"


def oc_section(adl, falls, wii, wii_scaled, synth, negatives=()):
    """The operating characteristic: false alarms per hour against detection, every sensitivity and rule set."""
    hours = sum(r["n"] for r in adl) / 360000.0
    fall_h = sum(r["n"] for r in falls) / 360000.0
    need_h = 2.996 / 0.001  # zero events in T hours bound the rate below 3.0 / T (95 %, Poisson)
    lines = ["## Operating characteristic: false alarms against detection", "",
             f"Every operating point on the same data: false shake alarms per hour of SisFall activity ({hours:.1f} h, "
             "both splits) with the one-sided 95 % upper bound, alarms during the fall recordings "
             f"({fall_h:.1f} h) and synthetic clapping, against the share of shakes detected within {LATENCY_MS} ms: "
             "Wiimote as recorded, Wiimote rescaled to 3 g, synthetic (still start). Rule sets: `default` = the "
             "detector as shipped; `issue 4` = the rules before issue 5 ("
             + ", ".join(f"`{k}={v}`" for k, v in OC_RULES["issue 4"].items())
             + "); naive = |a| > threshold, 5 s refractory.", "",
             "| detector | SisFall alarms | per hour | 95 % upper / h | tune / held-out alarms | in falls | clapping "
             "| Wiimote as recorded | Wiimote at 3 g | synthetic | meets both goals |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    keys = [(rules, s) for rules in OC_RULES for s in SENSITIVITY] + [("naive", mg) for mg in NAIVE_OC_MG]
    meets = []
    for key in keys:
        a = sum(r["oc"][key] for r in adl)
        split_a = [sum(r["oc"][key] for r in adl if subject_split(r["subject"]) == sp) for sp in ("tune", "held-out")]
        rate, up = rate_bound(a, hours)
        fa = sum(r["oc"][key] for r in falls)
        clap = sum(x[5][key] for x in negatives if x[0] == "clapping") if negatives and len(negatives[0]) > 5 else ""
        dets = []
        for trials in (wii, wii_scaled):
            dets.append(sum(1 for t in trials if t[4][key]) / len(trials) if trials else 0.0)
        dets.append(sum(1 for t in synth if t[3][key]) / len(synth) if synth else 0.0)
        goal = up <= 0.001 and min(dets) >= 0.99
        meets.append((up <= 0.001, min(dets) >= 0.99, goal))
        name = f"naive {key[1] / 1000:g} g" if key[0] == "naive" else f"{key[0]}, sensitivity {key[1]}"
        if key == ("default", DEFAULT_SENSITIVITY):
            name = f"**{name}**"
        lines.append(f"| {name} | {a} | {rate:.3f} | {up:.3f} | {split_a[0]} / {split_a[1]} | {fa} | {clap} | "
                     + " | ".join(f"{100 * d:.1f} %" for d in dets) + f" | {'yes' if goal else 'no'} |")
    n_fa = sum(1 for m in meets if m[0])
    n_det = sum(1 for m in meets if m[1])
    n_both = sum(1 for m in meets if m[2])
    lines += ["", f"Goals: <= 0.001 false alarm per hour (1 per 1,000 h, judged by the 95 % upper bound) and >= 99 % "
              f"of deliberate shakes within {LATENCY_MS} ms on all three shake sets. Of the {len(meets)} operating "
              f"points above, {n_fa} demonstrate the false-alarm goal, {n_det} the detection goal, {n_both} both. "
              f"The false-alarm goal cannot be demonstrated with {hours:.1f} h of data whatever the detector does: "
              "even with zero alarms, claiming 1 per "
              f"1,000 h at 95 % confidence needs {need_h:,.0f} h of representative wear without a single alarm "
              f"(Poisson: P(0 events) = exp(-rate x T) <= 5 % -> T >= 3.0 / rate); at 0.01 / h it needs "
              f"{2.996 / 0.01:,.0f} h.", ""]
    return lines


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=os.environ.get("DEME_SHARED_DATA", str(REPO.parent / "shared" / "data")))
    ap.add_argument("--out", default=str(REPO / "build" / "reports" / "triggers.md"))
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--limit", type=int, default=0, help="only every N-th SisFall file (quick look)")
    ap.add_argument("--synthetic", type=int, default=1000)
    ap.add_argument("--no-bench", action="store_true")
    ap.add_argument("--quick", action="store_true",
                    help="tuning loop: only the shake detector, one split, variants side by side (no report)")
    ap.add_argument("--split", choices=("tune", "held-out", "all"), default="tune", help="with --quick")
    ap.add_argument("--variant", action="append", default=[], metavar="NAME=JSON",
                    help='with --quick: ShakeDetector keyword arguments, e.g. low=\'{"low_mg": 1000}\'')
    ap.add_argument("--diagnose", action="store_true",
                    help="with --quick: per rule, the real shakes it alone rejects and the false alarms it prevents")
    ap.add_argument("--falls", action="store_true", help="with --quick: count shake alarms in fall recordings too")
    ap.add_argument("--per-subject", action="store_true", help="with --quick: Wiimote detections per subject")
    args = ap.parse_args(argv)
    root = Path(args.data) / "imu" / "sisfall"
    wii_path = Path(args.data) / "imu" / "wiimote_shake" / "ShakeGestureWiimoteZ_TRAIN.tsv"
    if not (root / "INDEX.csv").is_file() or not wii_path.is_file():
        print(f"eval_triggers: data not found under {args.data} (set DEME_SHARED_DATA)", file=sys.stderr)
        return 2
    started = time.monotonic()
    with open(root / "INDEX.csv") as f:
        rows = list(csv.DictReader(f))
    if args.limit:
        rows = rows[:: args.limit]
    activity = {r["code"]: r["activity"] for r in rows}
    wii_recs = wiimote_shakes(wii_path)
    if args.quick:
        if args.synthetic == 1000:
            args.synthetic = 300
        return quick_main(args, rows, str(root), wii_recs)
    walk_rows = [r for r in rows if r["code"] in ("D01", "D02") and subject_split(r["subject"]) == "held-out"]
    with Pool(args.workers) as pool:
        results = pool.map(sisfall_task, [(str(root), r) for r in rows], chunksize=8)
        wii = [t for chunk in pool.map(wiimote_task, [(str(wii_path), i, lab, vals, None, 10)
                                                     for i, (lab, vals) in enumerate(wii_recs)]) for t in chunk]
        wii_scaled = [t for chunk in pool.map(wiimote_task, [(str(wii_path), i, lab, vals, 3.0, 10)
                                                            for i, (lab, vals) in enumerate(wii_recs)])
                      for t in chunk]
        synth = pool.map(synthetic_task, [(SEED + i, None) for i in range(args.synthetic)], chunksize=16)
        backgrounds = []
        for r in walk_rows[:8]:
            s = load(root / r["file"])
            backgrounds.append([(x, y, z) for _, x, y, z in s[1000:2500]])
        synth_walk = []
        if backgrounds:
            synth_walk = pool.map(synthetic_task, [(SEED + 50000 + i, backgrounds[i % len(backgrounds)])
                                                   for i in range(args.synthetic // 2)], chunksize=16)
        negatives = pool.map(negative_task, [("clapping", SEED + 90000 + i) for i in range(300)]
                             + [("bus ride", SEED + 95000 + i) for i in range(20)])
    for r in results:
        r["activity"] = activity.get(r["code"], "")
    elapsed = time.monotonic() - started
    bench_lines = []
    if not args.no_bench:
        try:
            from tools.bench_triggers import micropython_figures

            bench_lines = micropython_figures()
        except Exception as exc:  # the report still stands without the device figures
            bench_lines = [f"(bench failed: {exc!r})"]
    split_note = ("Subject split: TUNE = odd-numbered subjects (SA01, SA03, ..., SE01, SE03, ...), on which the "
                  "parameters were chosen; HELD-OUT = even-numbered subjects. Wiimote shakes: subjects 1, 3, 5, 7, 9 "
                  "tune, 2, 4, 6, 8, 10 held out (split the same way). Caveat: during design, the false "
                  "alarms of a few held-out recordings (SA04, SA06, SE14: running downstairs and jogging) were "
                  "looked at to understand failure modes, so the held-out figures are not pristine.")
    report = build_report(results, wii, wii_scaled, synth, synth_walk, elapsed, len(results), bench_lines,
                          split_note, negatives, wiimote_stats(wii_recs))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report)
    adl = [r for r in results if r["code"].startswith("D")]
    falls = [r for r in results if r["code"].startswith("F")]
    h = sum(r["n"] for r in adl) / 360000.0
    fa = sum(r["shake"][DEFAULT_SENSITIVITY][0] for r in adl)
    syn_ok = sum(1 for _, res, *_ in synth if res[DEFAULT_SENSITIVITY][0])
    print(f"triggers: {len(results)} SisFall files in {elapsed:.1f} s; shake false alarms {fa} in {h:.1f} h of "
          f"activity; synthetic shakes detected {syn_ok}/{len(synth)}; Wiimote as recorded "
          f"{sum(1 for t in wii if t[1])}/{len(wii)} (held-out subjects "
          f"{sum(1 for t in wii if t[1] and wiimote_split(t[0]) == 'held-out')}/"
          f"{sum(1 for t in wii if wiimote_split(t[0]) == 'held-out')}), at 3 g "
          f"{sum(1 for t in wii_scaled if t[1])}/{len(wii_scaled)};"
          f" falls {sum(1 for r in falls if r['fall'])}/{len(falls)}, activities with a fall pre-alarm "
          f"{sum(1 for r in adl if r['fall'])}/{len(adl)} -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
