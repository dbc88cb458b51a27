"""Bad input fails early with a clear error naming the argument; the model is untouched.

Every kind of bad input tested here is a key of one of the registries below (`CASES`,
`API_CASES`, `CLI_CASES`) or is named by `@covers(...)` on its own test; `ELSEWHERE` lists
the kinds tested in other files. `test_count_the_kinds_of_bad_input` prints the count
(visible in the normal pytest output; also with `-s` or `-rA`).
"""

import functools
import importlib
import os
import re
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tfxai
from tests.conftest import SIZE, assert_unchanged, get_model, snapshot
from tfxai import cli

KINDS = {}  # kind of bad input -> the test that covers it, in this file


def _register(kinds, where):
    for kind in kinds:
        if kind in KINDS:
            raise AssertionError(f"bad-input kind {kind!r} is registered twice")
        KINDS[kind] = where


def covers(*kinds):
    """Registers the kinds of bad input a test covers."""

    def decorate(test):
        _register(kinds, test.__name__)
        return test

    return decorate


# Kinds covered by tests in other files: "path::test function" (checked to exist below).
ELSEWHERE = {
    "dataset_infinite": "tests/test_reliability.py::test_an_infinite_dataset_is_refused_at_once",
    "dataset_empty": "tests/test_reliability.py::test_empty_unbatched_and_dict_datasets",
    "dataset_unbatched": "tests/test_reliability.py::test_empty_unbatched_and_dict_datasets",
    "dataset_of_dicts": "tests/test_reliability.py::test_empty_unbatched_and_dict_datasets",
    "model_with_nan_outputs": "tests/test_reliability.py::test_a_model_with_nan_outputs_is_an_error_not_a_blank_map",
    "occlusion_stride_leaves_gaps": "tests/test_reliability.py::test_occlusion_refuses_a_stride_that_leaves_gaps",
    "layer_called_twice": "tests/test_reliability.py::test_a_layer_called_twice_is_named",
    "mask_with_an_empty_mask": "tests/test_reliability.py::test_mask_score_checks_come_before_the_trace",
    "model_rounding_its_own_pixels": "tests/test_reliability.py::"
    "test_a_model_that_casts_its_own_input_still_raises_instead_of_blank_maps",
    "dataset_target_list_of_one_batch": "tests/test_batches.py::test_a_list_that_does_not_cover_the_dataset_is_refused",
    "target_labels_without_labels": "tests/test_batches.py::test_labels_without_class_labels_is_refused",
    "ig_steps_zero": "tests/attribution/test_bad_input.py::test_bad_input_names_the_argument",
    "ig_baseline_unknown_name": "tests/attribution/test_bad_input.py::test_bad_input_names_the_argument",
    "ig_baseline_per_image_count": "tests/attribution/test_bad_input.py::test_bad_input_names_the_argument",
    "noise_negative": "tests/attribution/test_bad_input.py::test_bad_input_names_the_argument",
    "smooth_grad_method_unknown": "tests/attribution/test_bad_input.py::test_bad_input_names_the_argument",
    "reduce_unknown": "tests/attribution/test_bad_input.py::test_bad_input_names_the_argument",
    "occlusion_patch_larger_than_image": "tests/attribution/test_bad_input.py::test_bad_input_names_the_argument",
    "occlusion_fill_unknown": "tests/attribution/test_bad_input.py::test_bad_input_names_the_argument",
    "rise_probability_zero": "tests/attribution/test_bad_input.py::test_bad_input_names_the_argument",
    "rise_cell_larger_than_image": "tests/attribution/test_bad_input.py::test_bad_input_names_the_argument",
    "noise_wrapper_instance_of_other_model": "tests/attribution/test_bad_input.py::test_method_instance_must_explain_the_same_model",
    # volumes: 3-D inputs (B, D, H, W, C) for models with a 5-D input
    "volume_model_given_images": "tests/test_volumes.py::test_an_image_batch_for_a_volume_model_is_refused",
    "image_model_given_volumes": "tests/test_volumes.py::test_a_volume_batch_for_an_image_model_is_refused",
    "volume_of_the_wrong_size": "tests/test_volumes.py::test_a_volume_of_the_wrong_size_names_the_axis",
    "volume_dataset_unbatched": "tests/test_volumes.py::test_an_unbatched_dataset_of_volumes_is_refused",
    "volume_layer_of_another_rank": "tests/test_volumes.py::test_a_layer_of_another_rank_is_refused",
    "volume_model_without_5d_layer": "tests/test_volumes.py::test_a_volume_model_without_a_5d_layer_is_refused",
    "volume_layers_all_1x1x1": "tests/test_volumes.py::test_1x1x1_layers_warn_that_the_maps_are_constant",
    "volume_occlusion_or_rise": "tests/test_volumes.py::test_perturbation_methods_refuse_volumes",
    "volume_metrics": "tests/test_volumes.py::test_metrics_refuse_volume_maps",
    "volume_slices_bad_arguments": "tests/viz/test_volume_slices.py::test_bad_arguments_name_themselves",
    # zoo: the demo's bundled classifier
    "demo_classifier_unknown": "tests/test_demo.py::test_demo_rejects_an_unknown_classifier",
    # transformers: token layers (tfxai/tokens.py)
    "tokens_not_a_grid": "tests/cam/test_tokens.py::test_bad_tokens",
    "tokens_not_fitting_the_layer": "tests/cam/test_tokens.py::test_bad_tokens",
    "tokens_grid_not_inferable": "tests/cam/test_tokens.py::test_a_grid_that_cannot_be_inferred_names_tokens",
    "token_layer_whose_patches_are_not_read": "tests/cam/test_tokens.py::test_a_token_layer_whose_patches_are_not_read_is_refused",
    "objective_tokens_not_a_grid": "tests/featurevis/test_tokens.py::test_the_grid_follows_the_model_input_size_and_tokens_option",
}
# explain_dataset, Explanations and the Beam transform: their own tests already check that
# each message starts with the argument's name; the rest are tested below ("the scale").
_DATASET = "tests/scale/test_explain_dataset.py::"
_BEAM = "tests/scale/test_beam.py::"
for _where, _kinds in {
    _DATASET + "test_bad_arguments_name_themselves": [
        "explain_dataset_shard_size_not_a_multiple_of_batch_size",
        "explain_dataset_shard_size_zero",
        "explain_dataset_dtype_unknown",
        "explain_dataset_metric_unknown",
        "explain_dataset_localization_metric_without_masks",
        "explain_dataset_metrics_not_a_sequence",
        "explain_dataset_labels_without_labels",
        "explain_dataset_strategy_type",
        "explain_dataset_overwrite_string",
        "explain_dataset_option_unknown",
        "explain_dataset_preprocessing_unknown",
    ],
    _DATASET + "test_bad_sources_and_methods": [
        "explain_dataset_infinite",
        "explain_dataset_empty",
        "explain_dataset_image_rank",
        "explain_dataset_source_type",
        "explain_dataset_user_callable_method",
        "explain_dataset_return_delta",
        "explain_dataset_out_dir_is_a_file",
        "explain_dataset_instance_of_other_model",
    ],
    _DATASET + "test_other_settings_are_refused_with_what_differs": [
        "explain_dataset_other_settings",
        "explain_dataset_other_model_weights",
    ],
    _DATASET + "test_a_per_image_target_list_covers_the_dataset": [
        "explain_dataset_target_list_shorter_than_the_dataset",
    ],
    _DATASET + "test_indexing_and_reading_back": [
        "explanations_key_type",
        "explanations_key_out_of_range",
    ],
    _BEAM + "test_bad_arguments_name_themselves_before_the_pipeline": [
        "beam_shard_size_not_a_multiple_of_batch_size",
        "beam_dtype_unknown",
        "beam_metric_unknown",
        "beam_option_unknown",
        "beam_return_delta",
        "beam_preprocessing_unknown",
        "beam_overwrite_string",
        "beam_source_not_a_dict",
    ],
    _BEAM + "test_bad_methods_paths_and_folders": [
        "beam_method_instance",
        "beam_user_callable_method",
        "beam_out_dir_url",
        "beam_model_path_type",
        "beam_model_path_unloadable",
        "beam_folder_labels",
        "beam_folder_without_images",
        "beam_pipeline_options_type",
        "beam_out_dir_already_explained",
    ],
    _BEAM + "test_positions_with_a_gap_or_twice_are_refused": [
        "beam_index_missing",
        "beam_index_twice",
    ],
    _BEAM + "test_without_apache_beam_the_import_error_says_what_to_install": [
        "beam_not_installed",
    ],
}.items():
    ELSEWHERE.update(dict.fromkeys(_kinds, _where))
# multi-input models (image + table): tests/test_multi_input.py
_MULTI = "tests/test_multi_input.py::"
for _where, _kinds in {
    _MULTI + "test_bad_multi_input_calls_name_the_argument": [
        "multi_input_single_array",
        "multi_input_too_few_arrays",
        "multi_input_dict_keys",
        "multi_input_row_count",
        "multi_input_row_shape",
        "input_unknown_name",
        "input_position_out_of_range",
        "input_not_a_name_or_position",
        "multi_input_image_shape",
        "multi_input_dataset",
        "multi_input_to_a_metric",
        "multi_input_to_render",
    ],
    _MULTI + "test_two_image_inputs_need_input_and_each_gets_its_own_maps": [
        "input_ambiguous_two_images",
    ],
    _MULTI + "test_a_single_input_model_refuses_another_input": ["input_on_a_single_input_model"],
    "tests/cam/test_tokens.py::test_tokens_for_a_spatial_layer_is_refused": [
        "tokens_for_a_spatial_layer"
    ],
    _MULTI + "test_a_callback_given_several_inputs_says_callbacks_take_one": [
        "callback_given_several_inputs"
    ],
    _MULTI + "test_a_subclassed_model_with_several_inputs_is_named_as_such": [
        "input_on_a_subclassed_model"
    ],
    "tests/test_volumes.py::test_token_layers_of_a_volume_model_are_not_taken_for_images": [
        "token_layer_on_a_volume_model"
    ],
    _MULTI + "test_the_other_inputs_travel_with_the_target": ["multi_input_rows_of_another_batch"],
}.items():
    ELSEWHERE.update(dict.fromkeys(_kinds, _where))


def _images(n=2, seed=0):
    return np.random.default_rng(seed).uniform(size=(n, SIZE, SIZE, 3)).astype(np.float32)


# --------------------------------------------------------------------------- grad_cam

CASES = {
    "rank": (dict(inputs=np.zeros((SIZE, SIZE, 3))), ValueError, r"inputs: .*pass inputs\[None\]"),
    "channels": (dict(inputs=np.zeros((2, SIZE, SIZE, 1))), ValueError, r"inputs: .*channels"),
    "size": (dict(inputs=np.zeros((2, 16, SIZE, 3))), ValueError, r"inputs: .*height"),
    "nan": (dict(inputs=np.full((2, SIZE, SIZE, 3), np.nan)), ValueError, r"inputs: .*NaN"),
    "inf": (dict(inputs=np.full((1, SIZE, SIZE, 3), np.inf)), ValueError, r"inputs: .*Inf"),
    "empty": (dict(inputs=np.zeros((0, SIZE, SIZE, 3))), ValueError, r"inputs: .*empty"),
    "strings": (dict(inputs=np.array([["a"]])), TypeError, r"inputs: .*numeric"),
    "unknown_layer": (dict(layer="conv_2"), ValueError, r"layer: no layer 'conv_2'.*conv2"),
    "dense_layer": (dict(layer="logits"), ValueError, r"layer: 'logits' has an output of shape"),
    "layer_index": (dict(layer=40), ValueError, r"layer: index 40 is out of range"),
    "layer_type": (dict(layer=2.5), TypeError, r"layer: expected a name"),
    "class_range": (dict(target=7), ValueError, r"target: class index 7 is out of range.*\[0, 4\]"),
    "class_negative": (dict(target=[0, -1]), ValueError, r"target: class index -1"),
    "target_length": (
        dict(target=[0, 1, 2]),
        ValueError,
        r"target: expected one class index per sample \(2",
    ),
    "target_type": (dict(target=1.5), TypeError, r"target: expected None, an int"),
    "target_bool": (dict(target=True), TypeError, r"target: expected a class index"),
    "target_shape": (dict(target=lambda y: y), ValueError, r"target: .*shape \(batch,\)"),
    "batch_size": (dict(batch_size=0), ValueError, r"batch_size: expected a positive integer"),
    # the bad-input campaign
    "inputs_bool": (
        dict(inputs=np.ones((2, SIZE, SIZE, 3), bool)),
        TypeError,
        r"^inputs: expected numeric values, got a boolean array of shape "
        r"\(2, 32, 32, 3\)",
    ),
    "inputs_bool_tensor": (
        dict(inputs=tf.ones((1, SIZE, SIZE, 3), tf.bool)),
        TypeError,
        r"^inputs: expected numeric values, got a boolean array",
    ),
    "inputs_5d": (
        dict(inputs=np.zeros((1, 2, SIZE, SIZE, 3))),
        ValueError,
        r"^inputs: expected a batch of images .*got shape \(1, 2, 32, 32, 3\)",
    ),
    "inputs_complex": (
        dict(inputs=np.zeros((1, SIZE, SIZE, 3), np.complex64)),
        TypeError,
        r"^inputs: expected a numeric array, got dtype complex64",
    ),
    "inputs_ragged_list": (
        dict(inputs=[np.zeros((SIZE, SIZE, 3)), np.zeros((4, 4, 3))]),
        TypeError,
        r"^inputs: expected a numeric array, got list",
    ),
    "inputs_symbolic": (
        dict(inputs=keras.Input((SIZE, SIZE, 3))),
        TypeError,
        r"^inputs: expected a numeric array, got KerasTensor",
    ),
    "logits_string": (dict(logits="yes"), TypeError, r"^logits: expected True or False, got 'yes'"),
    "normalize_string": (
        dict(normalize="no"),
        TypeError,
        r"^normalize: expected True or False, got 'no'",
    ),
    "normalize_int": (dict(normalize=1), TypeError, r"^normalize: expected True or False, got 1"),
    "batch_size_string": (
        dict(batch_size="4"),
        ValueError,
        r"^batch_size: expected a positive integer, got '4'",
    ),
    "output_index_on_single_output": (
        dict(output=1),
        ValueError,
        r"^output: model 'sequential' has a single output; "
        r"got output=1",
    ),
    "output_name_on_sequential": (
        dict(output="box"),
        ValueError,
        r"^output: model 'sequential' has no named outputs; got 'box'",
    ),
    "output_unhashable": (
        dict(output=[0]),
        ValueError,
        r"^output: model 'sequential' has a single output; got output=\[0\]",
    ),
    "option_unknown": (
        dict(foo=1),
        TypeError,
        r"^foo: not an option of GradCAM; it takes batch_size, input, layer, logits",
    ),
    "target_string": (dict(target="cat"), TypeError, r"^target: expected None, an int.* got 'cat'"),
    "target_fractions": (
        dict(target=np.array([0.5, 1.0])),
        TypeError,
        r"^target: expected an int or a sequence of ints",
    ),
}
_register(CASES, "test_bad_input_names_the_argument")


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_names_the_argument(case):
    model = get_model("sequential")
    before = snapshot(model)
    call = dict(
        inputs=np.zeros((2, SIZE, SIZE, 3), np.float32), target=None, layer=None, batch_size=32
    )
    overrides, error, message = CASES[case]
    call.update(overrides)
    with pytest.raises(error, match=message):
        tfxai.grad_cam(model, **call)
    assert_unchanged(before, model)
    assert not any("call" in vars(layer) for _, layer in tfxai.layer_paths(model))


# --------------------------------------------------------------------------- the API


def _seq():
    return get_model("sequential")


def _maps(n=2):
    return np.random.default_rng(1).uniform(size=(n, SIZE, SIZE)).astype(np.float32)


def _masks(n=2):
    masks = np.zeros((n, SIZE, SIZE), bool)
    masks[:, 8:16, 8:20] = True
    return masks


def _dense_only_model():
    return keras.Sequential(
        [keras.Input((SIZE, SIZE, 3)), keras.layers.Flatten(), keras.layers.Dense(2)],
        name="dense_only",
    )


def _tabular_model():
    return keras.Sequential([keras.Input((10,)), keras.layers.Dense(2)], name="tabular")


def _two_input_model():
    first, second = keras.Input((SIZE, SIZE, 3)), keras.Input((SIZE, SIZE, 3))
    x = keras.layers.Conv2D(2, 3, name="conv")(keras.layers.Add()([first, second]))
    return keras.Model(
        [first, second],
        keras.layers.Dense(2)(keras.layers.GlobalAveragePooling2D()(x)),
        name="two_inputs",
    )


API_CASES = {
    # explainers: flags, numbers, options, model kinds
    "return_delta_string": (
        lambda: tfxai.integrated_gradients(_seq(), _images(), steps=2, return_delta="y"),
        TypeError,
        r"^return_delta: expected True or False, got 'y'",
    ),
    "keep_sign_string": (
        lambda: tfxai.saliency(_seq(), _images(), keep_sign="yes"),
        TypeError,
        r"^keep_sign: expected True or False, got 'yes'",
    ),
    "logits_string_attribution": (
        lambda: tfxai.Saliency(_seq(), logits="no"),
        TypeError,
        r"^logits: expected True or False, got 'no'",
    ),
    "ig_steps_negative": (
        lambda: tfxai.IntegratedGradients(_seq(), steps=-3),
        ValueError,
        r"^steps: expected a positive integer, got -3",
    ),
    "ig_steps_infinite": (
        lambda: tfxai.IntegratedGradients(_seq(), steps=float("inf")),
        ValueError,
        r"^steps: expected a positive integer, got inf",
    ),
    "ig_baseline_bool": (
        lambda: tfxai.IntegratedGradients(_seq(), baseline=True),
        ValueError,
        r"^baseline: expected one of .*a number or an array, got True",
    ),
    "samples_fraction": (
        lambda: tfxai.SmoothGrad(_seq(), samples=2.5),
        ValueError,
        r"^samples: expected a positive integer, got 2.5",
    ),
    "noise_string": (
        lambda: tfxai.SmoothGrad(_seq(), noise="0.1"),
        ValueError,
        r"^noise: expected a finite number >= 0, got '0.1'",
    ),
    "noise_wrapper_option_unknown": (
        lambda: tfxai.smooth_grad(_seq(), _images(), samples=2, top_n=3),
        TypeError,
        r"^top_n: not an option of Saliency \(the noise wrapper's method\)",
    ),
    "patch_pair_of_one": (
        lambda: tfxai.Occlusion(_seq(), patch=(8,)),
        ValueError,
        r"^patch: expected a positive integer or a pair .*got \(8,\)",
    ),
    "fill_nan": (
        lambda: tfxai.Occlusion(_seq(), fill=float("nan")),
        ValueError,
        r"^fill: expected a finite number or \"mean\", got nan",
    ),
    "rise_probability_above_one": (
        lambda: tfxai.RISE(_seq(), p=1.5),
        ValueError,
        r"^p: expected a probability in \(0, 1\], got 1.5",
    ),
    "seed_fraction": (
        lambda: tfxai.RISE(_seq(), seed=1.5),
        ValueError,
        r"^seed: expected an integer >= 0, got 1.5",
    ),
    "top_n_string": (
        lambda: tfxai.ScoreCAM(_seq(), top_n="3"),
        ValueError,
        r"^top_n: expected None or a positive integer, got '3'",
    ),
    "top_n_unhashable": (
        lambda: tfxai.score_cam(_seq(), _images(), top_n=[3]),
        ValueError,
        r"^top_n: expected None or a positive integer, got \[3\]",
    ),
    "inputs_are_the_model": (
        lambda: tfxai.GradCAM(_seq())(_seq(), _images()),
        TypeError,
        r"^inputs: got the model 'sequential'; an explainer instance "
        r"already holds its model",
    ),
    "model_class_not_instance": (
        lambda: tfxai.grad_cam(keras.Sequential, _images()),
        TypeError,
        r"^model: expected a keras.Model, got type",
    ),
    "model_is_a_layer": (
        lambda: tfxai.saliency(keras.layers.Conv2D(2, 3), _images()),
        TypeError,
        r"^model: expected a keras.Model, got Conv2D",
    ),
    "model_without_spatial_layer": (
        lambda: tfxai.grad_cam(_dense_only_model(), _images()),
        ValueError,
        r"^layer: model 'dense_only' has no layer "
        r"with a 4-D",
    ),
    "model_not_for_images": (
        lambda: tfxai.saliency(_tabular_model(), np.zeros((2, 10))),
        ValueError,
        r"^inputs: expected a batch of images .*\(2, 10\)",
    ),
    "model_with_two_inputs": (
        lambda: tfxai.grad_cam(_two_input_model(), _images()),
        ValueError,
        r"^input: model 'two_inputs' has 2 inputs .* 2 of them are an image batch .*name the one",
    ),
    "output_on_single_output_metric": (
        lambda: tfxai.metrics.deletion(_seq(), _images(), _maps(), steps=2, output=1),
        ValueError,
        r"^output: model 'sequential' has a single output; got output=1",
    ),
    # metrics: the explainer/maps argument
    "metric_explainer_class": (
        lambda: tfxai.metrics.deletion(_seq(), _images(), tfxai.GradCAM, steps=2),
        TypeError,
        r"^maps: got the class GradCAM, which is built on a model rather than "
        r"called on images; pass the function tfxai.grad_cam or an instance "
        r"GradCAM\(model, ...\)",
    ),
    "metric_explainer_class_average_drop": (
        lambda: tfxai.metrics.average_drop(_seq(), _images(), tfxai.ScoreCAM),
        TypeError,
        r"^maps: got the class ScoreCAM.*tfxai.score_cam",
    ),
    "metric_explainer_instance_of_other_model": (
        lambda: tfxai.metrics.insertion(
            _seq(), _images(), tfxai.GradCAM(get_model("functional")), steps=2
        ),
        ValueError,
        r"^maps: the GradCAM instance explains model 'functional', not "
        r"'sequential'",
    ),
    "metric_method_name_string": (
        lambda: tfxai.metrics.deletion(_seq(), _images(), "grad_cam", steps=2),
        TypeError,
        r"^maps: expected maps \(B, H, W\) or an explainer callable .*got the string "
        r"'grad_cam'; pass the function tfxai.grad_cam",
    ),
    "sanity_explainer_class": (
        lambda: tfxai.metrics.sanity_check(_seq(), _images(), tfxai.GradCAM),
        TypeError,
        r"^explainer: got the class GradCAM",
    ),
    "sanity_explainer_instance": (
        lambda: tfxai.metrics.sanity_check(_seq(), _images(), tfxai.GradCAM(_seq())),
        TypeError,
        r"^explainer: got a GradCAM instance, which is bound to model "
        r"'sequential', but sanity_check explains randomized copies",
    ),
    # metrics: numbers, flags, maps and masks
    "iou_threshold_above_one": (
        lambda: tfxai.metrics.iou(_maps(), _masks(), threshold=2),
        ValueError,
        r"^threshold: expected a number in \[0, 1\], got 2\.",
    ),
    "iou_threshold_negative": (
        lambda: tfxai.metrics.iou(_maps(), _masks(), threshold=-0.5),
        ValueError,
        r"^threshold: expected a number in \[0, 1\], "
        r"got -0.5",
    ),
    "iou_maps_out_of_range": (
        lambda: tfxai.metrics.iou(_maps() - 5, _masks()),
        ValueError,
        r"^maps: expected maps in \[0, 1\]",
    ),
    "masks_fractions": (
        lambda: tfxai.metrics.iou(_maps(), _masks() * 0.5),
        ValueError,
        r"^masks: expected boolean masks \(or 0/1 values\), got values in "
        r"\[0, 0.5\]",
    ),
    "masks_wrong_size": (
        lambda: tfxai.metrics.pointing_game(_maps(), _masks()[:, :16]),
        ValueError,
        r"^masks: expected boolean masks of shape \(2, 32, 32\)",
    ),
    "masks_strings": (
        lambda: tfxai.metrics.iou(_maps(), np.full((SIZE, SIZE), "a")),
        TypeError,
        r"^masks: expected a numeric array, got dtype <U1",
    ),
    "maps_channel_axis": (
        lambda: tfxai.metrics.deletion(_seq(), _images(), _maps()[..., None], steps=2),
        ValueError,
        r"^maps: expected one map per image of shape \(2, 32, 32\).*"
        r"drop the channel axis",
    ),
    "maps_one_per_batch_missing": (
        lambda: tfxai.metrics.deletion(_seq(), _images(), _maps(1), steps=2),
        ValueError,
        r"^maps: expected one map per image of shape \(2, 32, 32\).*got shape \(1, 32, 32\)",
    ),
    "deletion_steps_above_pixels": (
        lambda: tfxai.metrics.deletion(_seq(), _images(), _maps(), steps=10**6),
        ValueError,
        r"^steps: expected an integer in \[1, 1024\] \(at most the number of "
        r"pixels per image\), got 1000000",
    ),
    "return_curves_string": (
        lambda: tfxai.metrics.deletion(_seq(), _images(), _maps(), return_curves="yes"),
        TypeError,
        r"^return_curves: expected True or False, got 'yes'",
    ),
    "logits_string_metric": (
        lambda: tfxai.metrics.insertion(_seq(), _images(), _maps(), steps=2, logits="no"),
        TypeError,
        r"^logits: expected True or False, got 'no'",
    ),
    "deletion_baseline_bool": (
        lambda: tfxai.metrics.deletion(_seq(), _images(), _maps(), steps=2, baseline=True),
        TypeError,
        r"^baseline: expected numeric values, got True",
    ),
    "metric_batch_size_string": (
        lambda: tfxai.metrics.explanation_scores(_seq(), _images(), _maps(), batch_size="2"),
        ValueError,
        r"^batch_size: expected an integer >= 1, got '2'",
    ),
    "pointing_tolerance_string": (
        lambda: tfxai.metrics.pointing_game(_maps(), _masks(), tolerance="15"),
        ValueError,
        r"^tolerance: expected a distance in pixels >= 0, got '15'",
    ),
    "blur_sigma_zero": (
        lambda: tfxai.metrics.blur(_images(), sigma=0),
        ValueError,
        r"^sigma: expected a finite number > 0, got 0",
    ),
    "blur_radius_negative": (
        lambda: tfxai.metrics.blur(_images(), radius=-1),
        ValueError,
        r"^radius: expected an integer >= 0, got -1",
    ),
    "blur_single_image": (
        lambda: tfxai.metrics.blur(_images()[0]),
        ValueError,
        r"^images: expected a batch of images .*got shape \(32, 32, 3\)",
    ),
    "sanity_layers_index_out_of_range": (
        lambda: tfxai.metrics.sanity_check(_seq(), _images(), tfxai.grad_cam, layers=99),
        ValueError,
        r"^layers: index 99 is out of range",
    ),
    "sanity_keep_maps_string": (
        lambda: tfxai.metrics.sanity_check(_seq(), _images(), tfxai.grad_cam, keep_maps="no"),
        TypeError,
        r"^keep_maps: expected True or False, got 'no'",
    ),
    # feature visualization, datasets, models, callbacks, viz
    "render_progress_string": (
        lambda: tfxai.render(
            _seq(), tfxai.featurevis.channel("conv2", 0), size=SIZE, steps=1, progress="no"
        ),
        TypeError,
        r"^progress: expected True or False, got 'no'",
    ),
    "render_objective_string": (
        lambda: tfxai.render(_seq(), "conv2", size=SIZE, steps=1, progress=False),
        TypeError,
        r"^objective: expected an objective from tfxai.featurevis",
    ),
    "gallery_progress_string": (
        lambda: tfxai.gallery(
            _seq(), "conv2", channels=1, out_dir="unused", size=SIZE, steps=0, progress="no"
        ),
        TypeError,
        r"^progress: expected True or False, got 'no'",
    ),
    "transforms_fused_string": (
        lambda: tfxai.featurevis.transforms.standard(fused="no"),
        TypeError,
        r"^fused: expected True or False, got 'no'",
    ),
    "shapes_clutter_string": (
        lambda: tfxai.datasets.make_shapes(2, size=32, clutter="no"),
        TypeError,
        r"^clutter: expected True or False, got 'no'",
    ),
    "resnet_preprocessing_string": (
        lambda: tfxai.models.resnet50(preprocessing="no", input_shape=(32, 32, 3)),
        TypeError,
        r"^preprocessing: expected True or False, got 'no'",
    ),
    "callback_boolean_images": (
        lambda: tfxai.ExplanationCallback(
            "grad_cam", np.ones((2, SIZE, SIZE, 3), bool), log_dir=None
        ),
        TypeError,
        r"^inputs: expected numeric values, got a boolean array",
    ),
    "callback_instance_of_other_model": (
        lambda: tfxai.methods.build(tfxai.GradCAM(_seq()), get_model("functional")),
        ValueError,
        r"^method: the GradCAM instance explains model 'sequential', not "
        r"'functional'",
    ),
    "callback_instance_with_options": (
        lambda: tfxai.ExplanationCallback(tfxai.ScoreCAM(_seq()), _images(), top_n=3, log_dir=None),
        ValueError,
        r"^top_n: a ScoreCAM instance already holds its options",
    ),
}
_register(API_CASES, "test_api_bad_input")


@pytest.mark.parametrize("case", list(API_CASES))
def test_api_bad_input(case):
    model = _seq()
    before = snapshot(model)
    call, error, message = API_CASES[case]
    with pytest.raises(error, match=message):
        call()
    assert_unchanged(before, model)
    assert not any("call" in vars(layer) for _, layer in tfxai.layer_paths(model))


def _unbuilt_model():
    return keras.Sequential(
        [
            keras.layers.Conv2D(2, 3, name="conv"),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(2),
        ],
        name="unbuilt",
    )


@covers("model_unbuilt")
@pytest.mark.parametrize(
    "call",
    [
        lambda m: tfxai.saliency(m, _images()),
        lambda m: tfxai.grad_cam(m, _images(), layer="conv"),
        lambda m: tfxai.metrics.deletion(m, _images(), _maps(), steps=2),
        lambda m: tfxai.render(
            m, tfxai.featurevis.channel("conv", 0), size=SIZE, steps=1, progress=False
        ),
    ],
)
def test_an_unbuilt_model_is_refused_not_built(call):
    """Explaining an unbuilt model would create (and explain) random weights in it."""
    model = _unbuilt_model()
    with pytest.raises(
        ValueError,
        match=r"^model: 'unbuilt' is not built \(it has no "
        r"weights yet\)",
    ):
        call(model)
    assert not model.built and not model.weights


@covers("model_keras2")
def test_a_keras2_model_is_named_as_such():
    tf_keras = pytest.importorskip("tf_keras")
    model = tf_keras.Sequential([tf_keras.layers.Dense(2, input_shape=(4,))])
    with pytest.raises(
        TypeError,
        match=r"^model: expected a keras.Model, got Sequential "
        r"from tf_keras \(Keras 2 / tf.keras\)",
    ):
        tfxai.grad_cam(model, _images())


@covers("metric_explainer_instance")
def test_an_explainer_instance_is_a_natural_metric_argument():
    """`deletion(model, x, GradCAM(model))` scores exactly what `grad_cam` does."""
    model, images = _seq(), _images(3, seed=4)
    by_function = tfxai.metrics.deletion(
        model, images, functools.partial(tfxai.grad_cam, layer="conv1"), steps=8
    )
    by_instance = tfxai.metrics.deletion(model, images, tfxai.GradCAM(model, "conv1"), steps=8)
    np.testing.assert_allclose(by_instance, by_function, atol=1e-6)
    by_blank = tfxai.metrics.deletion(model, images, np.zeros((3, SIZE, SIZE)), steps=8)
    assert not np.allclose(by_instance, by_blank)  # the instance's maps were used
    drop = tfxai.metrics.average_drop(model, images, tfxai.GradCAM(model, "conv1"))
    assert drop == pytest.approx(
        tfxai.metrics.average_drop(model, images, functools.partial(tfxai.grad_cam, layer="conv1")),
        abs=1e-4,
    )
    explain = tfxai.methods.build(tfxai.ScoreCAM(model, top_n=2), model)
    np.testing.assert_allclose(
        explain(images, [0, 1, 2]), tfxai.score_cam(model, images, [0, 1, 2], top_n=2), atol=1e-6
    )


# --------------------------------------------------------------------------- gallery


@covers("gallery_channels_beyond_every_layer")
def test_gallery_channels_beyond_every_layer_names_the_counts(tmp_path):
    model = _seq()
    with pytest.raises(
        ValueError,
        match=r"^channels: got 999, more channels than any layer "
        r"has \('conv1' has 8, 'conv2' has 16\); expected "
        r"at most 16",
    ):
        tfxai.gallery(
            model,
            ["conv1", "conv2"],
            channels=999,
            out_dir=tmp_path,
            size=SIZE,
            steps=0,
            progress=False,
        )
    assert list(tmp_path.iterdir()) == []


# The module (the attribute `tfxai.featurevis.gallery` is the function).
GALLERY_MODULE = importlib.import_module("tfxai.featurevis.gallery")


def _no_render(*args, **kwargs):
    raise AssertionError("rendered before the output folder was checked")


@covers("gallery_out_is_a_file", "gallery_out_under_a_file", "gallery_out_not_a_path")
@pytest.mark.parametrize(
    "out, error, message",
    [
        (
            "file",
            ValueError,
            r"^out_dir: cannot write to '.*file' \(File exists\); expected a "
            r"folder that can be created and written",
        ),
        ("file/sub", ValueError, r"^out_dir: cannot write to '.*file/sub' \(Not a directory\)"),
        (5, TypeError, r"^out_dir: expected a folder path \(str or os.PathLike\), got int"),
    ],
)
def test_gallery_checks_the_output_folder_before_rendering(
    tmp_path, monkeypatch, out, error, message
):
    (tmp_path / "file").write_text("not a folder")
    monkeypatch.setattr(GALLERY_MODULE, "_render", _no_render)
    out_dir = tmp_path / out if isinstance(out, str) else out
    with pytest.raises(error, match=message):
        tfxai.gallery(
            _seq(), "conv2", channels=2, out_dir=out_dir, size=SIZE, steps=1, progress=False
        )


@covers("gallery_out_read_only")
def test_gallery_into_a_read_only_folder_fails_before_rendering(tmp_path, monkeypatch):
    folder = tmp_path / "read_only"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        if os.access(folder, os.W_OK):  # root writes anyway: see the "under a file" case
            pytest.skip("running as root: a 0o500 folder is still writable")
        monkeypatch.setattr(GALLERY_MODULE, "_render", _no_render)
        with pytest.raises(ValueError, match=r"^out_dir: cannot write to .*Permission"):
            tfxai.gallery(
                _seq(), "conv2", channels=2, out_dir=folder, size=SIZE, steps=1, progress=False
            )
    finally:
        folder.chmod(0o700)


@covers("save_png_under_a_file")
def test_save_png_under_a_file_names_the_path(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(
        ValueError,
        match=r"^path: cannot write '.*file/out.png' \((File "
        r"exists|Not a directory)\); expected a path in a "
        r"folder that can be created",
    ):
        tfxai.viz.save_png(tmp_path / "file" / "out.png", np.zeros((4, 4)))


@covers("resnet_weights_unreadable")
def test_unreadable_resnet_weights_name_the_argument(tmp_path):
    junk = tmp_path / "weights.h5"
    junk.write_text("not weights")
    with pytest.raises(
        ValueError,
        match=r"^weights: cannot load '.*weights.h5' into "
        r"ResNet50 \(",
    ):
        tfxai.models.resnet50(weights=str(junk), input_shape=(32, 32, 3), classes=2)


# --------------------------------------------------------------------------- the CLI

G = [
    "gallery",
    "shapes-classifier",
    "--layers",
    "block4_out",
    "--size",
    "32",
    "--steps",
    "1",
    "--no-progress",
]
CLI_CASES = {
    "cli_channels_beyond_the_layer": (
        G + ["--channels", "999", "--out", "{tmp}/g"],
        r"--channels: got 999, more channels than any layer "
        r"has \('block4_out' has 64\)",
    ),
    "cli_channels_zero": (
        G + ["--channels", "0", "--out", "{tmp}/g"],
        r"--channels: expected a positive integer, got 0",
    ),
    "cli_out_is_a_file": (G + ["--out", "{file}"], r"--out: cannot write to '.*' \(File exists\)"),
    "cli_out_under_a_file": (
        G + ["--out", "{file}/sub"],
        r"--out: cannot write to '.*' \(Not a directory\)",
    ),
    "cli_size_zero": (
        G + ["--size", "0", "--out", "{tmp}/g"],
        r"--size: expected a positive integer or a pair",
    ),
    "cli_steps_negative": (
        G + ["--steps", "-1", "--out", "{tmp}/g"],
        r"--steps: expected an integer >= 0, got -1",
    ),
    "cli_batch_size_zero": (
        G + ["--batch-size", "0", "--out", "{tmp}/g"],
        r"--batch-size: expected a positive integer, got 0",
    ),
    "cli_seed_negative": (
        G + ["--seed", "-1", "--out", "{tmp}/g"],
        r"--seed: expected an integer >= 0, got -1",
    ),
    "cli_model_file_missing": (
        ["gallery", "{tmp}/missing.keras", "--layers", "x"],
        r"model: no such file '.*missing.keras'",
    ),
    "cli_model_file_corrupt": (
        ["gallery", "{tmp}/corrupt.keras", "--layers", "x"],
        r"model: cannot load '.*corrupt.keras' as a Keras model",
    ),
    "cli_model_is_a_folder": (
        ["gallery", "{tmp}/folder.keras", "--layers", "x"],
        r"model: '.*folder.keras' is a folder; expected a .keras file",
    ),
    "cli_model_name_unknown": (
        ["gallery", "resnet", "--layers", "x"],
        r"model: expected one of shapes-classifier, shapes-gap-classifier, shapes-unet, "
        r"resnet50 or a .keras file, got 'resnet'",
    ),
    "cli_weights_for_a_bundled_model": (
        G + ["--weights", "imagenet"],
        r"--weights: only for the resnet50 model",
    ),
    "cli_demo_out_is_a_file": (
        ["demo", "--out", "{file}"],
        r"--out: cannot write to '.*' \(File exists\)",
    ),
    "cli_demo_images_zero": (
        ["demo", "--images", "0"],
        r"--images: expected a positive integer, got 0",
    ),
    "cli_demo_seed_negative": (
        ["demo", "--seed", "-1", "--out", "{tmp}/d"],
        r"--seed: expected an integer >= 0, got -1",
    ),
    "cli_demo_steps_zero": (
        ["demo", "--steps", "0", "--out", "{tmp}/d"],
        r"--steps: expected a positive integer, got 0",
    ),
    "cli_demo_top_n_zero": (
        ["demo", "--top-n", "0", "--out", "{tmp}/d"],
        r"--top-n: expected a positive integer, got 0",
    ),
    "cli_demo_method_unknown": (
        ["demo", "--methods", "gradcam", "--out", "{tmp}/d"],
        r"--methods: unknown \['gradcam'\]",
    ),
}
_register(CLI_CASES, "test_cli_bad_input_is_one_line_naming_the_flag")


@pytest.fixture
def cli_paths(tmp_path):
    (tmp_path / "file").write_text("a regular file")
    (tmp_path / "corrupt.keras").write_text("not a zip archive")
    (tmp_path / "folder.keras").mkdir()
    return {"tmp": str(tmp_path), "file": str(tmp_path / "file")}


@pytest.mark.parametrize("case", list(CLI_CASES))
def test_cli_bad_input_is_one_line_naming_the_flag(case, cli_paths, capsys):
    argv, message = CLI_CASES[case]
    status = cli.main([arg.format(**cli_paths) for arg in argv])
    err = capsys.readouterr().err.strip()
    assert status == 2
    assert len(err.splitlines()) == 1, err
    command = argv[0]
    assert err.startswith(f"tfxai {command}: error: "), err
    assert re.match(message, err.split("error: ", 1)[1]), err
    assert not os.path.exists(os.path.join(cli_paths["tmp"], "d"))  # the demo never ran


@covers("cli_exit_status_and_no_traceback")
def test_the_console_command_exits_2_without_a_traceback(cli_paths):
    result = subprocess.run(
        [sys.executable, "-m", "tfxai.cli", "demo", "--out", cli_paths["file"]],
        capture_output=True,
        text=True,
        timeout=300,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"),
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert (
        result.stderr.strip()
        .splitlines()[-1]
        .startswith("tfxai demo: error: --out: cannot write to")
    )


# --------------------------------------------------------------------------- other tests


@covers("output_missing_on_multi_output", "output_unknown_name")
def test_multi_output_needs_output():
    model = get_model("multi_output")
    images = np.zeros((1, SIZE, SIZE, 3), np.float32)
    with pytest.raises(ValueError, match=r"output: model 'multi_output' has 2 outputs"):
        tfxai.grad_cam(model, images)
    with pytest.raises(
        ValueError, match=r"output: model 'multi_output' has outputs \['classes', 'box'\]"
    ):
        tfxai.grad_cam(model, images, output="scores")
    assert not any("call" in vars(layer) for _, layer in tfxai.layer_paths(model))
    assert tfxai.grad_cam(model, images, output="box").shape == (1, SIZE, SIZE)


@covers("nested_layer_typo")
def test_nested_unknown_layer_suggests_nested_paths():
    with pytest.raises(ValueError, match=r"resnet50/conv5_block3_out"):
        tfxai.GradCAM(get_model("nested"), layer="conv5_block3_ou")


@covers("model_is_a_function")
def test_model_must_be_a_keras_model():
    with pytest.raises(TypeError, match=r"model: expected a keras.Model, got function"):
        tfxai.grad_cam(lambda x: x, np.zeros((1, SIZE, SIZE, 3)))


@covers("top_n_zero", "top_n_above_channels")
def test_top_n_is_checked():
    model = get_model("sequential")
    with pytest.raises(ValueError, match=r"top_n: expected None or a positive integer"):
        tfxai.ScoreCAM(model, top_n=0)
    with pytest.raises(ValueError, match=r"top_n: layer 'conv2' has 16 channels, got top_n=99"):
        tfxai.score_cam(model, np.zeros((1, SIZE, SIZE, 3)), top_n=99)


@covers("mask_score_mask_shape", "mask_score_mask_nan", "mask_score_on_a_classifier")
def test_mask_score_checks_the_mask():
    model = get_model("sequential")
    with pytest.raises(ValueError, match=r"mask: expected shape \(H, W\)"):
        tfxai.mask_score(1, np.zeros(5))
    with pytest.raises(ValueError, match=r"mask: contains NaN"):
        tfxai.mask_score(1, np.full((4, 4), np.nan))
    with pytest.raises(ValueError, match=r"target: mask_score needs a dense"):
        tfxai.grad_cam(
            model, np.zeros((1, SIZE, SIZE, 3)), target=tfxai.mask_score(1, np.ones((4, 4)))
        )


@covers("layer_off_the_output_path")
def test_layer_off_the_output_path_is_reported():
    inputs = keras.Input((SIZE, SIZE, 3))
    side = keras.layers.Conv2D(2, 3, name="side")(inputs)
    main = keras.layers.Conv2D(2, 3, name="main")(inputs)
    pooled = keras.layers.GlobalAveragePooling2D()(main)
    model = keras.Model(
        inputs, [keras.layers.Dense(3)(pooled), keras.layers.GlobalAveragePooling2D()(side)]
    )
    with pytest.raises(ValueError, match=r"layer: the target does not depend on layer 'side'"):
        tfxai.grad_cam(model, np.ones((1, SIZE, SIZE, 3)), layer="side", output=0)


@covers("keras_backend_not_tensorflow")
def test_non_tensorflow_backend_fails_at_import_with_the_fix():
    """Keras reports another backend (as it does under KERAS_BACKEND=jax): clear ImportError."""
    code = "import keras; keras.backend.backend = lambda: 'jax'; import tfxai"
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=300,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"),
    )
    assert result.returncode != 0
    assert "ImportError: tfxai needs the TensorFlow backend" in result.stderr
    assert "KERAS_BACKEND=tensorflow" in result.stderr and "'jax'" in result.stderr


# --------------------------------------------------------------------------- the scale


@covers(
    "explain_dataset_folder_without_images",
    "explain_dataset_folder_is_a_file",
    "load_explanations_without_manifest",
)
def test_folders_without_images_or_explanations_name_the_argument(tmp_path):
    (tmp_path / "notes.txt").write_text("not an image")
    with pytest.raises(ValueError, match=r"^dataset: no image files \(.png, .*\) in folder"):
        tfxai.explain_dataset(_seq(), str(tmp_path), "grad_cam", tmp_path / "out", progress=False)
    with pytest.raises(ValueError, match=r"^dataset: '.*notes.txt' is not a folder of image"):
        tfxai.explain_dataset(
            _seq(), str(tmp_path / "notes.txt"), "grad_cam", tmp_path / "out", progress=False
        )
    assert not (tmp_path / "out").exists()  # refused before out_dir was created
    with pytest.raises(ValueError, match=r"^out_dir: no manifest.json in '.*'; expected a folder"):
        tfxai.load_explanations(str(tmp_path))


# Elements a Beam pipeline refuses on the workers: (elements, ExplainImages options).
BEAM_ELEMENT_CASES = {
    "beam_element_not_a_tuple": (
        lambda images: [images[0]],
        {},
        TypeError,
        r"^elements: expected \(index, image\), \(index, image, label\) or a dict",
    ),
    "beam_index_not_an_int": (
        lambda images: [(0.0, images[0])],
        {},
        TypeError,
        r"^index: expected each element's position in the dataset as an int, got 0.0",
    ),
    "beam_index_negative": (
        lambda images: [(-1, images[0])],
        {},
        ValueError,
        r"^index: expected positions 0..N-1, got -1",
    ),
    "beam_labels_missing": (
        lambda images: [(0, images[0]), (1, images[1])],
        {"target": "labels"},
        ValueError,
        r"^target: 'labels' takes each image's class from its element's label, but the "
        r"element at index \d has none",
    ),
    "beam_labels_on_some_elements": (
        lambda images: [(0, images[0], 1), (1, images[1])],
        {"target": "labels"},
        ValueError,
        # one batch (the usual) or two: refused when the batch or the shard is put together
        r"^elements: (some elements have a 'label' and others do not \(the one at index 1"
        r"|the elements of shard 0 do not all carry the same fields \(label differ)",
    ),
    "beam_masks_missing": (
        lambda images: [(0, images[0], 1)],
        {"metrics": ["iou"]},
        ValueError,
        r"^metrics: 'iou' compares maps with object masks, but the element at index 0",
    ),
    "beam_empty_pcollection": (
        lambda images: [],
        {},
        ValueError,
        r"^elements: the PCollection is empty",
    ),
}
_register(BEAM_ELEMENT_CASES, "test_beam_bad_elements_name_the_argument")


@pytest.mark.parametrize("case", list(BEAM_ELEMENT_CASES))
def test_beam_bad_elements_name_the_argument(case, tmp_path):
    beam = pytest.importorskip("apache_beam")
    from apache_beam.options.pipeline_options import PipelineOptions

    import tfxai.beam
    from tfxai.datasets import make_shapes
    from tfxai.scale.beam import LOCAL_RUNNER

    elements, options, error, message = BEAM_ELEMENT_CASES[case]
    images = make_shapes(2, seed=1).images
    transform = tfxai.beam.ExplainImages(
        "shapes-classifier", "grad_cam", tmp_path / "out", batch_size=2, shard_size=2, **options
    )
    options = PipelineOptions(flags=[])
    with pytest.raises(error, match=message), beam.Pipeline(LOCAL_RUNNER, options) as pipeline:
        _ = pipeline | beam.Create(elements(images)) | transform
    assert not (tmp_path / "out" / "manifest.json").exists()


# --------------------------------------------------------------------------- property

_TINY = []


def _tiny_model():
    """8 x 8 RGB, one conv: the fixed model of the property test (built once)."""
    if not _TINY:
        keras.utils.set_random_seed(7)
        _TINY.append(
            keras.Sequential(
                [
                    keras.Input((8, 8, 3)),
                    keras.layers.Conv2D(3, 3, padding="same", activation="relu", name="conv"),
                    keras.layers.GlobalAveragePooling2D(),
                    keras.layers.Dense(2),
                ],
                name="tiny",
            )
        )
    return _TINY[0]


_SPECIAL = st.sampled_from([np.nan, np.inf, -np.inf])
_DTYPES = ["float32", "float64", "float16", "uint8", "int32", "int64", "bool", "complex64", "U1"]


def _elements(dtype):
    """Values of `dtype`; floats within +-1000 (or NaN/Inf): pixel magnitudes so large that
    the model's own outputs overflow are a model matter (a `model:` error), not an input's."""
    kind = np.dtype(dtype).kind
    if kind == "f":
        width = np.dtype(dtype).itemsize * 8
        return st.one_of(st.floats(-1e3, 1e3, width=width), _SPECIAL)
    if kind in "iu":
        info = np.iinfo(dtype)
        return st.integers(max(info.min, -1000), min(info.max, 1000))
    return None  # hypothesis' own values for bool, complex and strings


@st.composite
def _arrays(draw):
    dtype = draw(st.sampled_from(_DTYPES))
    shape = draw(
        st.one_of(
            st.integers(0, 3).map(lambda b: (b, 8, 8, 3)),  # the model's size (or an empty batch)
            hnp.array_shapes(min_dims=0, max_dims=5, min_side=0, max_side=9),
        )
    )
    return draw(hnp.arrays(dtype, shape, elements=_elements(dtype)))


@covers("random_shapes_dtypes_and_values")
@pytest.mark.parametrize("method", [tfxai.grad_cam, tfxai.saliency])
@settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(array=_arrays())
@example(array=np.zeros((1, 8, 8, 3), np.float32))
@example(array=np.linspace(0, 1, 2 * 8 * 8 * 3).reshape(2, 8, 8, 3))
@example(array=np.ones((1, 8, 8, 3), bool))
def test_any_array_is_explained_or_refused_naming_inputs(method, array):
    """Either finite maps in [0, 1] of shape (B, H, W), or a ValueError/TypeError whose
    message starts with "inputs:"; any other exception fails the test."""
    try:
        maps = method(_tiny_model(), array, target=0)
    except (ValueError, TypeError) as err:
        assert str(err).startswith("inputs:"), f"{array.dtype} {array.shape}: {err}"
        return
    assert maps.shape == array.shape[:3] and maps.dtype == np.float32
    assert np.all(np.isfinite(maps)) and maps.min() >= 0 and maps.max() <= 1


# --------------------------------------------------------------------------- the count


def _elsewhere_tests_exist():
    for where in set(ELSEWHERE.values()):
        path, name = where.split("::")
        try:
            module = importlib.import_module(path.removesuffix(".py").replace("/", "."))
        except pytest.skip.Exception:  # tests/scale/test_beam.py without the beam extra
            continue
        assert callable(getattr(module, name, None)), f"{where} does not exist"


def test_count_the_kinds_of_bad_input(request, capsys):
    _elsewhere_tests_exist()
    assert not set(KINDS) & set(ELSEWHERE)
    here, total = len(KINDS), len(KINDS) + len(ELSEWHERE)
    line = (
        f"bad-input kinds: {here} tested in tests/test_bad_input.py + "
        f"{len(ELSEWHERE)} registered elsewhere = {total}"
    )
    with capsys.disabled():  # shown in the normal pytest output
        print(f"\n{line}")
    if request.config.getoption("capture") != "no":
        print(line)  # in the captured output too: pytest -rA
    assert here >= 60
