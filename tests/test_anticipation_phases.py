"""hatespeech.anticipation.phase1 / phase2: the pipelines end to end on tiny random backbones and the mini
corpora of tests/fixtures/data (which deliberately hold phase-2 sentences), the leakage guard, their typed
results."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from anticipation_support import tiny_profile
from hatespeech import anticipation as ant
from hatespeech.anticipation import Phase1Result, phase1

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tokenizers / one_torch_thread: tests/conftest.py


def _row(**scores) -> dict:
    """A phase-1 row as Phase1Run.payload writes it (the scores given, the rest filled)."""
    base = {"accuracy": 0.5, "f1": 0.5, "precision": 0.5, "recall": 0.5, "positive_share": 0.3}
    base = {**base, "predicted_positive_share": 0.3, **scores}
    return {
        **base,
        "threshold": 0.5,
        "weighting": "each sentence weighs 1",
        "n_sentences": 10,
        "n_prefixes": 80,
        "at_0.5": base,
    }


def test_seed_table_is_context_without_verdicts():
    result = Phase1Result(
        profile="smoke",
        phase1={"decoder": _row(accuracy=0.70, f1=0.80)},
        phase1_baselines={},
        phase1_evidence={},
        phase1_sweep=[],
        phase1_data={},
        models={},
        settings={},
    )
    table = result.seed_table()
    assert table.loc["decoder", "seed: accuracy"] == 0.78 and table.loc["decoder", "seed: F1"] == 0.74
    assert table.loc["decoder", "ours: F1"] == 0.80 and "verdict" not in table
    assert pd.isna(table.loc["encoder+bilstm", "ours: F1"])  # not run here: no number of ours
    assert "context only" in ant.SEED_CONTEXT_NOTE and "baselines" in ant.SEED_CONTEXT_NOTE


def test_phase1_training_data_has_no_phase2_sentence(isolated, tokenizers):
    """The corpus built by our pipeline (fixtures hold three phase-2 tweets) and every training prefix it
    yields are free of prefix_probability sentences, checked with the data layer's leakage_check."""
    from hatespeech.data import leakage_check, load_prefix_probability
    from hatespeech.data.text import normalise_for_matching

    profile = tiny_profile()
    data = ant.load_phase1_data(profile)
    train, report = data.train, data.report
    assert set(report["split_sizes"]) == {"train", "selection", "val"}
    assert report["split_manifest"] == f"{profile.name}/splits/phase1.json"  # relative: no machine path
    phase2 = load_prefix_probability("all")
    assert report["sources"]["implicit_hate"]["removed"].get("phase2_tweet_id", 0) > 0  # the fixture did leak
    leakage_check(train, phase2)
    encoded = ant.encode_sentences(tokenizers["encoder"], train["text"].tolist(), 64)
    examples = ant.random_prefix_examples(encoded, train["label"], epochs=3, seed=0)
    sentences = {normalise_for_matching(s) for s in phase2["sentence"]}
    full = [e for e in examples if e["k"] == e["n_words"]]
    assert full  # some prefixes are whole sentences, so the check below is not vacuous
    assert not {normalise_for_matching(e["text"]) for e in examples} & sentences
    assert not set(train["id"]) & set(phase2["tweet_id"])


def test_phase1_pipeline_refuses_a_leaking_corpus(isolated, monkeypatch):
    from hatespeech import data
    from hatespeech.data import DataLeakageError

    real = data.build_phase1_corpus

    def leaking(profile):
        corpus, report = real(profile)
        leaked = data.load_prefix_probability("train")["sentence"].iloc[0]
        extra = pd.DataFrame(
            [{"id": "x1", "source": "stormfront", "text": leaked, "label": 1, "n_words": len(leaked.split())}]
        )
        return pd.concat([corpus, extra], ignore_index=True), report

    monkeypatch.setattr(phase1, "build_phase1_corpus", leaking)  # where load_phase1_data looks it up
    with pytest.raises(DataLeakageError):
        ant.load_phase1_data(tiny_profile())


def test_phase1_and_phase2_pipelines_on_tiny_models(isolated):
    profile = tiny_profile(**{"anticipation.variants": ("encoder", "decoder", "decoder+bilstm")})
    run1 = ant.run_phase1(profile)
    for variant in ("encoder", "decoder", "decoder+bilstm"):
        metrics, stats = run1.metrics[variant], run1.stats[variant]
        assert 0 <= metrics["accuracy"] <= 1 and metrics["eval_sentences"] > 0
        assert stats["train_sentences"] == run1.data_counts["train_sentences_available"]
        assert (ant.checkpoint_dir(profile, 1, variant) / "config.json").exists()
    # the decoders see every word end (shared causal pass); the encoder one prefix per sentence
    for variant in ("decoder", "decoder+bilstm"):
        assert run1.stats[variant]["train_prefixes_seen"] > run1.stats[variant]["train_sentences"]
        assert run1.stats[variant]["batch_size_rows"] >= ant.PHASE1_MIN_ROWS_PER_BATCH
    assert run1.stats["encoder"]["train_prefixes_seen"] == run1.stats["encoder"]["train_sentences"]
    assert (
        pytest.approx(run1.stats["encoder"]["pos_weight"])
        == (1 - run1.stats["encoder"]["train_positive_share"]) / run1.stats["encoder"]["train_positive_share"]
    )
    # the decile figure shows the baselines beside the variants
    assert set(run1.table("by_length_fraction")["variant"]) == {
        "encoder",
        "decoder",
        "decoder+bilstm",
        "majority",
        "tfidf_logistic",
    }
    # every prefix of every evaluation sentence, each sentence weighing 1
    every = run1.predictions["encoder"]
    assert len(every) > every["sentence"].nunique() == run1.metrics["encoder"]["eval_sentences"]
    assert every.groupby("sentence")["weight"].sum().round(9).eq(1).all()
    assert {"loss", "eval_loss"} <= set(run1.history().columns)
    result1 = run1.result()
    decoder = result1.phase1["decoder"]  # a typed row (Phase1Row), read by attribute
    assert decoder.by_source and decoder.by_length_fraction and decoder.training and 0 <= decoder.f1 <= 1
    # chosen on the selection set: lr (encoder swept over its candidates), epoch and threshold
    lrs = ant.phase1_lr_candidates(profile, "encoder")
    assert {row["lr"] for row in run1.sweep if row["variant"] == "encoder"} == set(lrs) and len(lrs) == 2
    assert sum(row["kept"] for row in run1.sweep if row["variant"] == "encoder") == 1
    assert run1.metrics["encoder"]["threshold"] == run1.stats["encoder"]["threshold"]
    assert run1.best_variant() in {"encoder", "decoder", "decoder+bilstm"}
    # baselines scored on the very same prefixes, and the evidence behind every verdict
    assert set(run1.baselines) == {"majority", "tfidf_logistic"}
    for name in ("majority", "tfidf_logistic"):
        assert run1.predictions[name]["prefix"].tolist() == run1.predictions["encoder"]["prefix"].tolist()
    evidence = result1.phase1_evidence
    assert Phase1Result.from_json(result1.to_json()).to_json() == result1.to_json()  # the JSON round-trips
    assert result1.findings() and result1.tables()
    assert set(evidence.intervals) == {
        "encoder",
        "decoder",
        "decoder+bilstm",
        "majority",
        "tfidf_logistic",
    }
    assert evidence.comparison("f1", run1.best_variant(), "tfidf_logistic") is not None
    assert evidence.n_comparisons == len(evidence.comparisons)
    targets = evidence.targets
    assert None not in (targets.decoders_at_least_tfidf, targets.accuracy_above_majority)

    # the seed's length weight: the best variant again without w_len, the main run as the with-w_len arm
    wlen = result1.wlen_ablation
    assert wlen.variant == run1.best_variant() and set(wlen.arms) == {"w_len", "unweighted"}
    assert wlen.arms["w_len"].selection_f1 == run1.stats[wlen.variant]["selection"]["kept"]["score"]
    assert wlen.kept_by_selection in {"w_len", "unweighted"} and "length weight" in " ".join(
        result1.findings()
    )

    run2 = ant.run_phase2(profile)
    table = run2.mse_table()
    assert set(table["kind"]) - {"loss_weight"} == {
        "constant",
        "phase1_only",
        "phase2",
        "no_phase1",
        "baseline",
        "phase1_only_corrected",
        "rehearsal",
    }
    assert set(table.loc[table["kind"] == "phase2", "variant"]) == {"encoder", "decoder", "decoder+bilstm"}
    assert table["n"].unique().tolist() == [int(run2.data.test["n_words"].sum())]
    result2 = run2.result()
    out = result2.to_json()
    assert result2.findings() and result2.tables()
    assert set(out["phase2"]) == {"encoder", "decoder", "decoder+bilstm"}
    assert set(out["baselines"]["phase2_without_phase1"]) == {"encoder"}
    assert out["baselines"]["constant"]["value"] == pytest.approx(run2.data.train_prefixes["label"].mean())
    assert "not a human ceiling" in out["annotator_agreement"]["note"]
    assert out["best_phase2_variant"] in {"encoder", "decoder", "decoder+bilstm"}
    assert {"tfidf_ridge", "phase1_only_prior_corrected"} <= set(out["baselines"])
    assert set(out["baselines"]["phase1_only_prior_corrected"]) == {"encoder", "decoder", "decoder+bilstm"}
    evidence = out["phase2_evidence"]
    assert evidence["best_variant"] == out["best_phase2_variant"] and evidence["unit"] == "test sentence"
    assert evidence["n_units"] == len(run2.data.test)
    best = f"phase2:{out['best_phase2_variant']}"
    best_model = out["best_model"]
    assert {f"mse:{best_model}-constant:train_mean", f"mse:{best_model}-baseline:tfidf_ridge"} <= set(
        evidence["comparisons"]
    )
    for variant in ("encoder", "decoder", "decoder+bilstm"):  # the held-out sentences chose the epoch kept
        stats = out["phase2"][variant]["training"]
        assert (
            stats["epochs"] <= stats["max_epochs"] and stats["selection"]["kept"]["epoch"] == stats["epochs"]
        )
    assert "annotators:mean of passes" in out["earliness"]["by_model"]
    assert (ant.checkpoint_dir(profile, 2, "decoder") / "config.json").exists()
    assert len(run2.example_trajectories["encoder"][1]) == len(ant.EXAMPLE_SENTENCES[1].split())
    # the forgetting remedy: for the best variant only, its share chosen on validation, compared on test
    rehearsal = out["rehearsal"]
    assert rehearsal["variant"] == out["best_phase2_variant"]
    assert set(rehearsal["candidates"]) == {str(s) for s in profile.anticipation.phase2.rehearsal_shares}
    chosen = rehearsal["candidates"][str(rehearsal["chosen_share"])]
    assert chosen["criterion"] == pytest.approx(chosen["val_mse"] + chosen["phase1_selection_brier"])
    assert chosen["criterion"] == min(c["criterion"] for c in rehearsal["candidates"].values())
    assert rehearsal["model"]["training"]["rehearsal"]["sentences"] > 0
    assert rehearsal["model"]["val_mse"] == pytest.approx(chosen["val_mse"])
    assert f"mse:rehearsal:{rehearsal['variant']}-{best}" in evidence["comparisons"]
    assert (ant.rehearsal_dir(profile, rehearsal["variant"]) / "config.json").exists()
    assert "Rehearsal for" in " ".join(result2.findings())
    # the best model comes from the whole pool (with and without phase 1), chosen on held-out sentences
    assert set(out["best_pool"]) == {
        "phase2:encoder",
        "phase2:decoder",
        "phase2:decoder+bilstm",
        "no_phase1:encoder",
    }
    assert out["best_model"] == min(out["best_pool"], key=out["best_pool"].get) == evidence["best_model"]
    assert evidence["primary_comparison"] == f"mse:{out['best_model']}-baseline:tfidf_ridge"
    # the seed's label weight: each candidate's held-out MSE, the test scored only for the chosen one
    weights = out["loss_weights"]
    assert (
        set(weights["candidates"]) == {"C=1", "unweighted"}
        and weights["variant"] == out["best_phase2_variant"]
    )
    assert (weights["chosen"] == "C=1") == ("loss_weight" not in set(table["kind"]))
    # training noise: the best phase-2 variant (and a no-phase-1 model) at an extra seed
    assert f"phase2:{out['best_phase2_variant']}" in out["seeds"]
    assert all(len(s["runs"]) == 2 for s in out["seeds"].values()) and len(out["seeds"]) <= 2
    # the decoders' frozen lower block ran once per sentence: decoder+bilstm replayed what decoder computed
    memo = run1.stats["decoder+bilstm"]["frozen_layer_memo"]
    assert memo["rows_replayed"] > 0 and run1.stats["encoder"]["frozen_layer_memo"] is None


def test_phase2_without_phase1_checkpoints_says_run_notebook_02(isolated):
    with pytest.raises(FileNotFoundError, match="02_phase1"):
        ant.run_phase2(tiny_profile())
    with pytest.raises(FileNotFoundError, match="02_phase1"):
        ant.load_checkpoint(tiny_profile(), 1, "encoder")


def test_payload_has_no_nan(isolated):
    """Undefined numbers (no detection -> no earliness, empty calibration bins) are null, not NaN, in the
    JSON."""
    import json

    profile = tiny_profile(**{"anticipation.variants": ("encoder",)})
    ant.run_phase1(profile)
    run = ant.run_phase2(profile)
    text = json.dumps(run.result().to_json(), allow_nan=False)  # raises on NaN
    assert '"calibration"' in text


def test_gpu_code_paths_every_layer_trained_at_smoke_size(isolated, monkeypatch, tokenizers):
    """The gpu / full profiles train every layer in both phases (no freezing): the same pipeline with tiny
    models built as those profiles build them (the decoder a GPT-2, as the gpu profile's), so a change that
    breaks that path fails here, not on a GPU."""
    from hatespeech.anticipation import training
    from hatespeech.models.prefix import parse_variant, tiny_prefix_classifier

    built = []

    def build_all_trainable(variant, model_id, *, lstm_hidden, trainable_layers, pretrained=True):
        # what training.new_prefix_classifier passes on from the profile, with a tiny model in its place
        built.append((variant, model_id, lstm_hidden, trainable_layers))
        tokenizer = tokenizers[parse_variant(variant)[0]]
        model = tiny_prefix_classifier(
            variant, tokenizer, seed=3, trainable_layers=trainable_layers, architecture="gpt2"
        )
        return model, tokenizer

    monkeypatch.setattr(training, "build_prefix_classifier", build_all_trainable)
    gpu = ant_gpu_overrides()
    profile = tiny_profile(**{"anticipation.variants": ("encoder", "decoder+bilstm"), **gpu})
    run1 = ant.run_phase1(profile)
    run2 = ant.run_phase2(profile)
    models = profile.models
    assert {(v, m, h, t) for v, m, h, t in built} == {
        ("encoder", models.encoder, profile.anticipation.lstm_hidden, None),
        ("decoder+bilstm", models.decoder, profile.anticipation.lstm_hidden, None),
    }
    for stats in (*run1.stats.values(), *run2.stats.values()):
        assert stats["trainable_parameters"] == stats["total_parameters"], stats["variant"]
        assert stats["trainable_layers"] is None
    assert 0 <= run1.metrics["decoder+bilstm"]["f1"] <= 1  # the GPT-2 decoder was scored, not only trained


def ant_gpu_overrides():
    """The layer settings of the gpu profile (every layer trainable in both phases)."""
    from hatespeech.config import get_profile

    gpu = get_profile("gpu").anticipation
    return {
        "anticipation.encoder_trainable_layers": gpu.encoder_trainable_layers,
        "anticipation.decoder_trainable_layers": gpu.decoder_trainable_layers,
        "anticipation.phase2.trainable_layers": gpu.phase2.trainable_layers,
    }


def _choices(run1, run2) -> dict:
    """Every choice the two phases make: per variant the learning rate, epoch and threshold kept, the best
    variant, the w_len arm; in phase 2 each variant's epoch, the best variant and model, C and the rehearsal
    share."""
    out2 = run2.result().to_json()
    return {
        "phase1": {
            variant: (
                stats["selection"]["kept"]["epoch"],
                stats["threshold"],
                [row["lr"] for row in run1.sweep if row["variant"] == variant and row["kept"]],
            )
            for variant, stats in run1.stats.items()
        },
        "phase1_best": run1.best_variant(),
        "wlen_kept": (run1.result().to_json()["wlen_ablation"] or {}).get("kept_by_selection"),
        "phase2_epochs": {v: m["training"]["epochs"] for v, m in out2["phase2"].items()},
        "phase2_best": (out2["best_phase2_variant"], out2["best_model"]),
        "loss_weight": (out2["loss_weights"] or {}).get("chosen"),  # null when the profile runs none
        "rehearsal_share": (out2["rehearsal"] or {}).get("chosen_share"),
    }


def test_no_choice_moves_when_the_reported_labels_are_noise(isolated, monkeypatch):
    """Issue 26: every choice is made on held-out data. Replacing the labels of the reported splits (phase-1
    evaluation, phase-2 test) by noise moves the reported numbers and none of the choices."""
    from hatespeech.anticipation import phase2

    profile = tiny_profile(**{"anticipation.variants": ("encoder", "decoder")})
    clean_runs = ant.run_phase1(profile), ant.run_phase2(profile)
    clean = _choices(*clean_runs)

    rng = np.random.default_rng(11)
    load_phase1, load_prefixes = phase1.load_phase1_data, phase2.load_prefix_probability

    def noisy_phase1(profile):
        data = load_phase1(profile)
        data.val = data.val.assign(label=rng.integers(0, 2, len(data.val)))
        return data

    def noisy_prefixes(split):
        frame = load_prefixes(split)
        if split != "test":
            return frame
        noise = {c: rng.random(len(frame)) for c in ("label", "label_a", "label_b") if c in frame}
        return frame.assign(**noise)

    monkeypatch.setattr(phase1, "load_phase1_data", noisy_phase1)
    monkeypatch.setattr(phase2, "load_prefix_probability", noisy_prefixes)
    noisy_runs = ant.run_phase1(profile), ant.run_phase2(profile)
    assert noisy_runs[0].metrics["encoder"]["f1"] != clean_runs[0].metrics["encoder"]["f1"]
    assert not noisy_runs[1].mse_table()["mse"].equals(clean_runs[1].mse_table()["mse"])
    assert _choices(*noisy_runs) == clean
