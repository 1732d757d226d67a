#!/usr/bin/env python3
"""Tables and figure for Notebooks-export/deepfake.md from
results/deepfake-lodo.json (scripts/eval_deepfake_lodo.py) and
results/speed-deepfake.json (scripts/bench_deepfake.py).

Rewrites the block between `<!-- BEGIN lodo -->` and `<!-- END lodo -->` in
deepfake.md and writes figures/deepfake-lodo.png.

    /root/venv/bin/python Notebooks-export/scripts/report_deepfake_lodo.py
"""
import json
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
NB = os.path.abspath(os.path.join(HERE, ".."))
LABEL = {"q90": "JPEG 90", "q75": "JPEG 75", "q90-down2": "2× down, JPEG 90", "q75-down2": "2× down, JPEG 75"}


def fmt_ci(ci):
    return "[%.2f, %.2f]" % tuple(ci)


def cand(c):
    return " + ".join("%s:%s" % (x, {"up": "upper", "down": "lower"}.get(s, s)) for x, s in c)


def main():
    r = json.load(open(os.path.join(NB, "results", "deepfake-lodo.json")))
    names, groups, sources = r["conditions"], r["groups"], r["sources"]
    logo, lorso, summ = r["leave_one_generator_out"], r["leave_one_real_source_out"], r["held_out_summary"]
    out = []
    out.append("### Held-out summary (the toolkit's accuracy)\n")
    out.append("| condition | LOGO mean AUROC [95% CI] | worst group | provenance error mean [95% CI] | worst source |")
    out.append("|---|---|---|---|---|")
    for n in names:
        a, e = summ[n]["logo_auroc"], summ[n]["provenance_error"]
        out.append("| %s | %.3f %s | %.3f (%s) | %.3f %s | %.3f (%s) |" % (
            LABEL[n], a["mean"], fmt_ci(a["ci95"]), a["worst"], a["worst_group"], e["mean"], fmt_ci(e["ci95"]),
            e["worst"], e["worst_source"]))
    out.append("\nGoals: LOGO mean ≥ 0.75 with no group below 0.6; provenance error ≤ 0.10 for every source; "
               "both at 2× downscaling and JPEG 75. **None is met.**\n")
    out.append("### Leave-one-generator-out, per held-out group\n")
    out.append("AUROC of the group's fakes against the held-out reals of all three sources [bootstrap 95% CI]; "
               "the cues were chosen on the other ten groups.\n")
    out.append("| held-out group | n | chosen on the others | " + " | ".join(LABEL[n] for n in names) + " |")
    out.append("|---|---|---|" + "---|" * len(names))
    for g in groups:
        L = logo[g]
        out.append("| %s | %d | %s | %s |" % (g, r["counts"][g], cand(L["chosen"]), " | ".join(
            "%.3f %s" % (L["held_out"][n]["auroc"], fmt_ci(L["held_out"][n]["ci95"])) for n in names)))
    out.append("\n### Leave-one-real-source-out: provenance error\n")
    out.append("AUROC of the held-out source's reals (all of them) against the bank's own held-out reals, "
               "bank fitted on the other two sources; provenance error = |AUROC − 0.5|, 0 is right.\n")
    out.append("| held-out source | fit / test reals | chosen without it | " + " | ".join(LABEL[n] for n in names) + " |")
    out.append("|---|---|---|" + "---|" * len(names))
    for s in sources:
        L = lorso[s]
        out.append("| %s | %d / %d | %s | %s |" % (s, *r["counts"][s], cand(L["chosen"]), " | ".join(
            "%.3f (AUROC %.2f %s)" % (L["held_out"][n]["provenance_error"], L["held_out"][n]["auroc"],
                                      fmt_ci(L["held_out"][n]["ci95"])) for n in names)))
    tl_path = os.path.join(NB, "results", "deepfake-lodo-with-tiny-ladeda.json")
    if os.path.exists(tl_path):
        t = json.load(open(tl_path))
        out.append("\n### With the user's Tiny-LaDeDa weights (`--tiny-ladeda`)\n")
        out.append("The same protocol with one more candidate cue, Tiny-LaDeDa's (WildRF checkpoint) mean patch logit "
                   "(`eval_deepfake_lodo.py --tiny-ladeda`; `results/deepfake-lodo-with-tiny-ladeda.json`). "
                   "Chosen on all data: **%s**.\n" % cand(t["default"]["chosen"]))
        out.append("| condition | LOGO mean AUROC [95% CI] | worst group | provenance error mean [95% CI] | worst source |")
        out.append("|---|---|---|---|---|")
        for n in names:
            a, e = t["held_out_summary"][n]["logo_auroc"], t["held_out_summary"][n]["provenance_error"]
            out.append("| %s | %.3f %s | %.3f (%s) | %.3f %s | %.3f (%s) |" % (
                LABEL[n], a["mean"], fmt_ci(a["ci95"]), a["worst"], a["worst_group"], e["mean"], fmt_ci(e["ci95"]),
                e["worst"], e["worst_source"]))
        out.append("\nHeld-out choices: " + "; ".join("%s → %s" % (s_, cand(t["leave_one_real_source_out"][s_]["chosen"]))
                                                     for s_ in sources) + " (leave-one-real-source-out).\n")
    if "tiny_ladeda" in r:
        out.append("\n### Tiny-LaDeDa alone, as the authors ship it (supervised; nothing fitted here)\n")
        out.append("Mean patch logit, the same images and conditions. Provenance error here is each source's reals against "
                   "the other two sources' held-out reals (nothing is fitted, so nothing is held out).\n")
        out.append("| checkpoint | condition | mean AUROC over groups | worst group | provenance error (imagenet, ml72-real, faces) |")
        out.append("|---|---|---|---|---|")
        for ck, per in r["tiny_ladeda"].items():
            for n in names:
                x = per[n]
                out.append("| %s | %s | %.3f | %.3f | %s |" % (ck, LABEL[n], x["mean_auroc"], x["worst_auroc"], ", ".join(
                    "%.2f" % x["provenance"][s_]["provenance_error"] for s_ in sources)))
    cli = os.path.join(NB, "results", "deepfake-cli-check.json")
    if os.path.exists(cli):
        c = json.load(open(cli))
        out.append("\n### The CLI reproduces the protocol\n")
        out.append("`check_deepfake_cli.py` runs `anomalykit deepfake fit/score` (libjpeg harmonisation, Swift cues) on the "
                   "same splits with the default readings (%s): " % c["readings"] + "; ".join(
                       "%s: mean AUROC %.3f (Python %.3f), largest per-group difference %.3f" % (
                           LABEL[n], v["cli"]["mean_auroc"], v["python"]["mean_auroc"], v["max_group_difference"])
                       for n, v in c["conditions"].items()) + ".\n")
    d = r["default"]
    out.append("\n### The shipped default\n")
    out.append("Chosen by the same greedy selection on all eleven groups and all three sources: **%s** "
               "(objective %.3f = mean generator AUROC − worst provenance error, averaged over the four "
               "conditions). Its numbers on all the data are in-sample (exploration only):\n" % (cand(d["chosen"]), d["objective_on_all"]))
    out.append("| condition | mean AUROC over groups | worst group | provenance AUROC (imagenet, ml72-real, faces) |")
    out.append("|---|---|---|---|")
    for n in names:
        t = d["in_sample"][n]
        g = t["groups"]
        worst = min(g, key=g.get)
        out.append("| %s | %.3f | %.3f (%s) | %s |" % (LABEL[n], np.mean(list(g.values())), g[worst], worst,
                                                      ", ".join("%.2f" % t["provenance_auroc"][s] for s in sources)))
    out.append("\n### Each cue alone (exploration: every cue and tail on all the data, JPEG 90)\n")
    out.append("| cue:tail | mean AUROC | worst group | provenance AUROC (imagenet, ml72-real, faces) | 2× down mean |")
    out.append("|---|---|---|---|---|")
    for key, per in r["single_cues"].items():
        c, s = key.split("/")
        q = per["q90"]
        out.append("| %s:%s | %.3f | %.3f | %s | %.3f |" % (c, {"up": "upper", "down": "lower"}.get(s, s), q["mean_auroc"], q["min_auroc"],
                                                        ", ".join("%.2f" % q["provenance_auroc"][x] for x in sources),
                                                        per["q90-down2"]["mean_auroc"]))
    sp = os.path.join(NB, "results", "speed-deepfake.json")
    if os.path.exists(sp):
        s = json.load(open(sp))
        out.append("\n### Speed\n")
        out.append("`deepfake score` on %d files of %s (whole command: start, weights, decoding, JPEG re-encoding, "
                   "cues): **%.1f images/s** on %d cores, %.2f× the numpy/PyTorch reference computing the same cues "
                   "in the same run (%.1f images/s; median of %d alternating rounds; `results/speed-deepfake.json`)." % (
                       s["images"], s["size"], s["anomalykit_images_per_second"], s["machine"]["cpus"], s["ratio"],
                       s["reference_images_per_second"], s["rounds"]))
    block = "\n".join(out) + "\n"
    path = os.path.join(NB, "deepfake.md")
    text = open(path).read()
    a, b = text.index("<!-- BEGIN lodo -->"), text.index("<!-- END lodo -->")
    open(path, "w").write(text[:a] + "<!-- BEGIN lodo -->\n" + block + text[b:])

    fig, axes = plt.subplots(1, 2, figsize=(13, 4.6), gridspec_kw={"width_ratios": [3, 1.2]})
    width = 0.2
    for i, n in enumerate(names):
        ys = [logo[g]["held_out"][n]["auroc"] for g in groups]
        lo = [ys[j] - logo[g]["held_out"][n]["ci95"][0] for j, g in enumerate(groups)]
        hi = [logo[g]["held_out"][n]["ci95"][1] - ys[j] for j, g in enumerate(groups)]
        axes[0].bar(np.arange(len(groups)) + (i - 1.5) * width, ys, width, yerr=[lo, hi], capsize=1.5, label=LABEL[n])
    axes[0].axhline(0.5, color="k", ls="--", lw=0.8)
    axes[0].axhline(0.75, color="tab:green", ls=":", lw=1, label="goal (mean 0.75)")
    axes[0].set_xticks(range(len(groups)))
    axes[0].set_xticklabels(groups, rotation=40, ha="right", fontsize=8)
    axes[0].set_ylabel("held-out AUROC (fakes vs reals)")
    axes[0].set_title("Leave-one-generator-out")
    axes[0].set_ylim(0, 1)
    axes[0].legend(fontsize=7, ncol=3)
    for i, n in enumerate(names):
        ys = [lorso[s]["held_out"][n]["provenance_error"] for s in sources]
        axes[1].bar(np.arange(len(sources)) + (i - 1.5) * width, ys, width, label=LABEL[n])
    axes[1].axhline(0.10, color="tab:green", ls=":", lw=1, label="goal (≤ 0.10)")
    axes[1].set_xticks(range(len(sources)))
    axes[1].set_xticklabels(sources, fontsize=8)
    axes[1].set_ylabel("provenance error |AUROC − 0.5|")
    axes[1].set_title("Leave-one-real-source-out")
    axes[1].set_ylim(0, 0.5)
    fig.tight_layout()
    fig.savefig(os.path.join(NB, "figures", "deepfake-lodo.png"), dpi=110)


if __name__ == "__main__":
    main()
