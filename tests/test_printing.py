"""Tensor printing: repr(t) must be exactly PyTorch's, with 'torch.' spelled 'ndgrad.'.

Every expected string below was recorded from PyTorch 2.13 (CPU) by building the same
tensor with torch and replacing 'torch.' with 'ndgrad.' in its repr, so these tests run
without torch installed.  `test_random_arrays_match_torch` compares against a live torch
when one is importable.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import ndgrad
from ndgrad import _printing

from _refs import digest

nan = float("nan")
inf = float("inf")


@pytest.fixture(autouse=True)
def _restore_print_state():
    """Print options and the default dtype are global: put them back after each test."""
    yield
    _printing.set_printoptions(profile="default")
    ndgrad.set_default_dtype(ndgrad.float32)


BASIC = [
    pytest.param(lambda: ndgrad.tensor([1., 2.5]),
                 "tensor([1.0000, 2.5000])",
                 id="float_1d"),
    pytest.param(lambda: ndgrad.tensor([[1., 2.5]]),
                 "tensor([[1.0000, 2.5000]])",
                 id="float_2d_row"),
    pytest.param(lambda: ndgrad.tensor(3.5),
                 "tensor(3.5000)",
                 id="float_0d"),
    pytest.param(lambda: ndgrad.tensor(-2.),
                 "tensor(-2.)",
                 id="float_0d_whole"),
    pytest.param(lambda: ndgrad.tensor(3),
                 "tensor(3)",
                 id="int_0d"),
    pytest.param(lambda: ndgrad.tensor(True),
                 "tensor(True)",
                 id="bool_0d"),
    pytest.param(lambda: ndgrad.tensor([1, 2, 3]),
                 "tensor([1, 2, 3])",
                 id="int_1d"),
    pytest.param(lambda: ndgrad.tensor([-1, 200, 3]),
                 "tensor([ -1, 200,   3])",
                 id="int_align"),
    pytest.param(lambda: ndgrad.tensor([[1, -20], [300, 4]]),
                 "tensor([[  1, -20],\n"
                 "        [300,   4]])",
                 id="int_2d_align"),
    pytest.param(lambda: ndgrad.tensor([True, False, True]),
                 "tensor([ True, False,  True])",
                 id="bool_1d"),
    pytest.param(lambda: ndgrad.tensor([True, True]),
                 "tensor([True, True])",
                 id="bool_all_true"),
    pytest.param(lambda: ndgrad.tensor([[True], [False]]),
                 "tensor([[ True],\n"
                 "        [False]])",
                 id="bool_2d"),
    pytest.param(lambda: ndgrad.tensor([1, 2], dtype=ndgrad.int32),
                 "tensor([1, 2], dtype=ndgrad.int32)",
                 id="int32"),
    pytest.param(lambda: ndgrad.tensor([[-5, 7]], dtype=ndgrad.int16),
                 "tensor([[-5,  7]], dtype=ndgrad.int16)",
                 id="int16"),
    pytest.param(lambda: ndgrad.tensor([-128, 127], dtype=ndgrad.int8),
                 "tensor([-128,  127], dtype=ndgrad.int8)",
                 id="int8"),
    pytest.param(lambda: ndgrad.tensor([0, 255, 9], dtype=ndgrad.uint8),
                 "tensor([  0, 255,   9], dtype=ndgrad.uint8)",
                 id="uint8"),
    pytest.param(lambda: ndgrad.tensor([9223372036854775807, -9223372036854775807 - 1]),
                 "tensor([ 9223372036854775807, -9223372036854775808])",
                 id="int64_big"),
    pytest.param(lambda: ndgrad.tensor(7, dtype=ndgrad.int32),
                 "tensor(7, dtype=ndgrad.int32)",
                 id="int32_0d"),
    pytest.param(lambda: ndgrad.tensor([1., 2., 3.]),
                 "tensor([1., 2., 3.])",
                 id="whole_floats"),
    pytest.param(lambda: ndgrad.tensor([-1., 0., 10.]),
                 "tensor([-1.,  0., 10.])",
                 id="whole_floats_neg"),
    pytest.param(lambda: ndgrad.tensor([0.1, 0.25, -3.14159]),
                 "tensor([ 0.1000,  0.2500, -3.1416])",
                 id="fixed_4"),
    pytest.param(lambda: ndgrad.tensor([9.99996, 0.5]),
                 "tensor([10.0000,  0.5000])",
                 id="fixed_round_up"),
    pytest.param(lambda: ndgrad.tensor([1e-5, 1.]),
                 "tensor([1.0000e-05, 1.0000e+00])",
                 id="sci_small"),
    pytest.param(lambda: ndgrad.tensor([1., 1001.]),
                 "tensor([1.0000e+00, 1.0010e+03])",
                 id="sci_ratio"),
    pytest.param(lambda: ndgrad.tensor([1., 1000.]),
                 "tensor([   1., 1000.])",
                 id="no_sci_ratio_1000"),
    pytest.param(lambda: ndgrad.tensor([1e9]),
                 "tensor([1.0000e+09])",
                 id="sci_big"),
    pytest.param(lambda: ndgrad.tensor([1e8]),
                 "tensor([100000000.])",
                 id="no_sci_1e8"),
    pytest.param(lambda: ndgrad.tensor([1e-4]),
                 "tensor([1.0000e-04])",
                 id="sci_1e_4_float32"),
    pytest.param(lambda: ndgrad.tensor([1e-4], dtype=ndgrad.float64),
                 "tensor([0.0001], dtype=ndgrad.float64)",
                 id="no_sci_1e_4_float64"),
    pytest.param(lambda: ndgrad.tensor([1., 1e10]),
                 "tensor([1.0000e+00, 1.0000e+10])",
                 id="sci_int_mode"),
    pytest.param(lambda: ndgrad.tensor([[-1e-7, 2.5], [3e5, -0.]]),
                 "tensor([[-1.0000e-07,  2.5000e+00],\n"
                 "        [ 3.0000e+05, -0.0000e+00]])",
                 id="sci_neg"),
    pytest.param(lambda: ndgrad.tensor([1e-200, 1.], dtype=ndgrad.float64),
                 "tensor([1.0000e-200,  1.0000e+00], dtype=ndgrad.float64)",
                 id="sci_exp_3_digits"),
    pytest.param(lambda: ndgrad.tensor([0., 0.]),
                 "tensor([0., 0.])",
                 id="zeros_only"),
    pytest.param(lambda: ndgrad.tensor(0.),
                 "tensor(0.)",
                 id="zero_0d"),
    pytest.param(lambda: ndgrad.tensor([-0., 1.]),
                 "tensor([-0., 1.])",
                 id="neg_zero"),
    pytest.param(lambda: ndgrad.tensor([nan, inf, -inf]),
                 "tensor([nan, inf, -inf])",
                 id="nan_inf"),
    pytest.param(lambda: ndgrad.tensor([1.5, nan]),
                 "tensor([1.5000,    nan])",
                 id="nan_fixed"),
    pytest.param(lambda: ndgrad.tensor([1., nan, -inf, 100.]),
                 "tensor([  1.,  nan, -inf, 100.])",
                 id="nan_int_mode"),
    pytest.param(lambda: ndgrad.tensor([1e-8, inf, 2.]),
                 "tensor([1.0000e-08,        inf, 2.0000e+00])",
                 id="inf_sci"),
    pytest.param(lambda: ndgrad.tensor(nan),
                 "tensor(nan)",
                 id="nan_0d"),
    pytest.param(lambda: ndgrad.tensor([1.5, 2.], dtype=ndgrad.float64),
                 "tensor([1.5000, 2.0000], dtype=ndgrad.float64)",
                 id="float64"),
    pytest.param(lambda: ndgrad.tensor(0.125, dtype=ndgrad.float64),
                 "tensor(0.1250, dtype=ndgrad.float64)",
                 id="float64_0d"),
    pytest.param(lambda: ndgrad.tensor([1.5, 2.], dtype=ndgrad.float16),
                 "tensor([1.5000, 2.0000], dtype=ndgrad.float16)",
                 id="float16"),
    pytest.param(lambda: ndgrad.tensor([0.1, 0.2, 65504.], dtype=ndgrad.float16),
                 "tensor([9.9976e-02, 1.9995e-01, 6.5504e+04], dtype=ndgrad.float16)",
                 id="float16_round"),
    pytest.param(lambda: ndgrad.tensor([1+2j, -3.5-1j]),
                 "tensor([ 1.0000+2.j, -3.5000-1.j])",
                 id="complex64"),
    pytest.param(lambda: ndgrad.tensor(1+2j),
                 "tensor(1.+2.j)",
                 id="complex_0d"),
    pytest.param(lambda: ndgrad.tensor([[1+0j, 2-3j], [0j, -4+1j]]),
                 "tensor([[ 1.+0.j,  2.-3.j],\n"
                 "        [ 0.+0.j, -4.+1.j]])",
                 id="complex_whole"),
    pytest.param(lambda: ndgrad.tensor([0.5+1j], dtype=ndgrad.complex128),
                 "tensor([0.5000+1.j], dtype=ndgrad.complex128)",
                 id="complex128"),
    pytest.param(lambda: ndgrad.tensor([1e-5+1j, 2-300000j]),
                 "tensor([1.0000e-05+1.0000e+00j, 2.0000e+00-3.0000e+05j])",
                 id="complex_sci"),
    pytest.param(lambda: ndgrad.tensor([complex(nan, 1), complex(1, inf)]),
                 "tensor([nan+1.j, 1.+infj])",
                 id="complex_nan"),
    pytest.param(lambda: ndgrad.arange(30.).reshape(1, 30) * (1+1j) / 7,
                 "tensor([[0.0000+0.0000j, 0.1429+0.1429j, 0.2857+0.2857j, 0.4286+0.4286j,\n"
                 "         0.5714+0.5714j, 0.7143+0.7143j, 0.8571+0.8571j, 1.0000+1.0000j,\n"
                 "         1.1429+1.1429j, 1.2857+1.2857j, 1.4286+1.4286j, 1.5714+1.5714j,\n"
                 "         1.7143+1.7143j, 1.8571+1.8571j, 2.0000+2.0000j, 2.1429+2.1429j,\n"
                 "         2.2857+2.2857j, 2.4286+2.4286j, 2.5714+2.5714j, 2.7143+2.7143j,\n"
                 "         2.8571+2.8571j, 3.0000+3.0000j, 3.1429+3.1429j, 3.2857+3.2857j,\n"
                 "         3.4286+3.4286j, 3.5714+3.5714j, 3.7143+3.7143j, 3.8571+3.8571j,\n"
                 "         4.0000+4.0000j, 4.1429+4.1429j]])",
                 id="complex_wrap"),
    pytest.param(lambda: ndgrad.tensor([]),
                 "tensor([])",
                 id="empty_1d"),
    pytest.param(lambda: ndgrad.zeros(0, 3),
                 "tensor([], size=(0, 3))",
                 id="empty_2d"),
    pytest.param(lambda: ndgrad.zeros(2, 0, 3),
                 "tensor([], size=(2, 0, 3))",
                 id="empty_3d"),
    pytest.param(lambda: ndgrad.zeros(0, dtype=ndgrad.int64),
                 "tensor([], dtype=ndgrad.int64)",
                 id="empty_int64"),
    pytest.param(lambda: ndgrad.tensor([], dtype=ndgrad.int32),
                 "tensor([], dtype=ndgrad.int32)",
                 id="empty_int32"),
    pytest.param(lambda: ndgrad.zeros(3, 0, dtype=ndgrad.bool),
                 "tensor([], size=(3, 0), dtype=ndgrad.bool)",
                 id="empty_bool_2d"),
    pytest.param(lambda: ndgrad.zeros(0, dtype=ndgrad.float64),
                 "tensor([], dtype=ndgrad.float64)",
                 id="empty_float64"),
    pytest.param(lambda: ndgrad.zeros(0, dtype=ndgrad.complex64),
                 "tensor([], dtype=ndgrad.complex64)",
                 id="empty_complex64"),
    pytest.param(lambda: ndgrad.arange(2000),
                 "tensor([   0,    1,    2,  ..., 1997, 1998, 1999])",
                 id="summ_int"),
    pytest.param(lambda: ndgrad.arange(2000.),
                 "tensor([0.0000e+00, 1.0000e+00, 2.0000e+00,  ..., 1.9970e+03, 1.9980e+03,\n"
                 "        1.9990e+03])",
                 id="summ_float_whole"),
    pytest.param(lambda: ndgrad.arange(1001.) / 7,
                 "tensor([  0.0000,   0.1429,   0.2857,  ..., 142.5714, 142.7143, 142.8571])",
                 id="summ_float_fixed"),
    pytest.param(lambda: ndgrad.arange(3000).reshape(3, 1000),
                 "tensor([[   0,    1,    2,  ...,  997,  998,  999],\n"
                 "        [1000, 1001, 1002,  ..., 1997, 1998, 1999],\n"
                 "        [2000, 2001, 2002,  ..., 2997, 2998, 2999]])",
                 id="summ_2d"),
    pytest.param(lambda: ndgrad.arange(3000.).reshape(1000, 3) / 4,
                 "tensor([[0.0000e+00, 2.5000e-01, 5.0000e-01],\n"
                 "        [7.5000e-01, 1.0000e+00, 1.2500e+00],\n"
                 "        [1.5000e+00, 1.7500e+00, 2.0000e+00],\n"
                 "        ...,\n"
                 "        [7.4775e+02, 7.4800e+02, 7.4825e+02],\n"
                 "        [7.4850e+02, 7.4875e+02, 7.4900e+02],\n"
                 "        [7.4925e+02, 7.4950e+02, 7.4975e+02]])",
                 id="summ_2d_rows"),
    pytest.param(lambda: ndgrad.arange(24000).reshape(20, 30, 40),
                 "tensor([[[    0,     1,     2,  ...,    37,    38,    39],\n"
                 "         [   40,    41,    42,  ...,    77,    78,    79],\n"
                 "         [   80,    81,    82,  ...,   117,   118,   119],\n"
                 "         ...,\n"
                 "         [ 1080,  1081,  1082,  ...,  1117,  1118,  1119],\n"
                 "         [ 1120,  1121,  1122,  ...,  1157,  1158,  1159],\n"
                 "         [ 1160,  1161,  1162,  ...,  1197,  1198,  1199]],\n"
                 "\n"
                 "        [[ 1200,  1201,  1202,  ...,  1237,  1238,  1239],\n"
                 "         [ 1240,  1241,  1242,  ...,  1277,  1278,  1279],\n"
                 "         [ 1280,  1281,  1282,  ...,  1317,  1318,  1319],\n"
                 "         ...,\n"
                 "         [ 2280,  2281,  2282,  ...,  2317,  2318,  2319],\n"
                 "         [ 2320,  2321,  2322,  ...,  2357,  2358,  2359],\n"
                 "         [ 2360,  2361,  2362,  ...,  2397,  2398,  2399]],\n"
                 "\n"
                 "        [[ 2400,  2401,  2402,  ...,  2437,  2438,  2439],\n"
                 "         [ 2440,  2441,  2442,  ...,  2477,  2478,  2479],\n"
                 "         [ 2480,  2481,  2482,  ...,  2517,  2518,  2519],\n"
                 "         ...,\n"
                 "         [ 3480,  3481,  3482,  ...,  3517,  3518,  3519],\n"
                 "         [ 3520,  3521,  3522,  ...,  3557,  3558,  3559],\n"
                 "         [ 3560,  3561,  3562,  ...,  3597,  3598,  3599]],\n"
                 "\n"
                 "        ...,\n"
                 "\n"
                 "        [[20400, 20401, 20402,  ..., 20437, 20438, 20439],\n"
                 "         [20440, 20441, 20442,  ..., 20477, 20478, 20479],\n"
                 "         [20480, 20481, 20482,  ..., 20517, 20518, 20519],\n"
                 "         ...,\n"
                 "         [21480, 21481, 21482,  ..., 21517, 21518, 21519],\n"
                 "         [21520, 21521, 21522,  ..., 21557, 21558, 21559],\n"
                 "         [21560, 21561, 21562,  ..., 21597, 21598, 21599]],\n"
                 "\n"
                 "        [[21600, 21601, 21602,  ..., 21637, 21638, 21639],\n"
                 "         [21640, 21641, 21642,  ..., 21677, 21678, 21679],\n"
                 "         [21680, 21681, 21682,  ..., 21717, 21718, 21719],\n"
                 "         ...,\n"
                 "         [22680, 22681, 22682,  ..., 22717, 22718, 22719],\n"
                 "         [22720, 22721, 22722,  ..., 22757, 22758, 22759],\n"
                 "         [22760, 22761, 22762,  ..., 22797, 22798, 22799]],\n"
                 "\n"
                 "        [[22800, 22801, 22802,  ..., 22837, 22838, 22839],\n"
                 "         [22840, 22841, 22842,  ..., 22877, 22878, 22879],\n"
                 "         [22880, 22881, 22882,  ..., 22917, 22918, 22919],\n"
                 "         ...,\n"
                 "         [23880, 23881, 23882,  ..., 23917, 23918, 23919],\n"
                 "         [23920, 23921, 23922,  ..., 23957, 23958, 23959],\n"
                 "         [23960, 23961, 23962,  ..., 23997, 23998, 23999]]])",
                 id="summ_3d"),
    pytest.param(lambda: ndgrad.arange(-1000., 1001.) ** 2 + 1,
                 "tensor([1000001.,  998002.,  996005.,  ...,  996005.,  998002., 1000001.])",
                 id="summ_sci_hidden"),
    pytest.param(lambda: ndgrad.arange(1500).reshape(30, 50) % 3 == 0,
                 "tensor([[ True, False, False,  ..., False,  True, False],\n"
                 "        [False,  True, False,  ..., False, False,  True],\n"
                 "        [False, False,  True,  ...,  True, False, False],\n"
                 "        ...,\n"
                 "        [ True, False, False,  ..., False,  True, False],\n"
                 "        [False,  True, False,  ..., False, False,  True],\n"
                 "        [False, False,  True,  ...,  True, False, False]])",
                 id="summ_bool"),
    pytest.param(lambda: (ndgrad.arange(1200) % 256).to(ndgrad.uint8),
                 "tensor([  0,   1,   2,  ..., 173, 174, 175], dtype=ndgrad.uint8)",
                 id="summ_uint8"),
    pytest.param(lambda: ndgrad.arange(2000.).reshape(2, 1000) * 1j,
                 "tensor([[0.+0.0000e+00j, 0.+1.0000e+00j, 0.+2.0000e+00j,  ..., 0.+9.9700e+02j,\n"
                 "         0.+9.9800e+02j, 0.+9.9900e+02j],\n"
                 "        [0.+1.0000e+03j, 0.+1.0010e+03j, 0.+1.0020e+03j,  ..., 0.+1.9970e+03j,\n"
                 "         0.+1.9980e+03j, 0.+1.9990e+03j]])",
                 id="summ_complex"),
    pytest.param(lambda: ndgrad.arange(50),
                 "tensor([ 0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14, 15, 16, 17,\n"
                 "        18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35,\n"
                 "        36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49])",
                 id="wrap_int"),
    pytest.param(lambda: ndgrad.arange(30.) / 7,
                 "tensor([0.0000, 0.1429, 0.2857, 0.4286, 0.5714, 0.7143, 0.8571, 1.0000, 1.1429,\n"
                 "        1.2857, 1.4286, 1.5714, 1.7143, 1.8571, 2.0000, 2.1429, 2.2857, 2.4286,\n"
                 "        2.5714, 2.7143, 2.8571, 3.0000, 3.1429, 3.2857, 3.4286, 3.5714, 3.7143,\n"
                 "        3.8571, 4.0000, 4.1429])",
                 id="wrap_float"),
    pytest.param(lambda: ndgrad.arange(30) % 2 == 0,
                 "tensor([ True, False,  True, False,  True, False,  True, False,  True, False,\n"
                 "         True, False,  True, False,  True, False,  True, False,  True, False,\n"
                 "         True, False,  True, False,  True, False,  True, False,  True, False])",
                 id="wrap_bool"),
    pytest.param(lambda: ndgrad.arange(60).reshape(2, 30),
                 "tensor([[ 0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14, 15, 16, 17,\n"
                 "         18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29],\n"
                 "        [30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47,\n"
                 "         48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59]])",
                 id="wrap_2d"),
    pytest.param(lambda: ndgrad.arange(50.).reshape(1, 2, 25) - 0.5,
                 "tensor([[[-0.5000,  0.5000,  1.5000,  2.5000,  3.5000,  4.5000,  5.5000,\n"
                 "           6.5000,  7.5000,  8.5000,  9.5000, 10.5000, 11.5000, 12.5000,\n"
                 "          13.5000, 14.5000, 15.5000, 16.5000, 17.5000, 18.5000, 19.5000,\n"
                 "          20.5000, 21.5000, 22.5000, 23.5000],\n"
                 "         [24.5000, 25.5000, 26.5000, 27.5000, 28.5000, 29.5000, 30.5000,\n"
                 "          31.5000, 32.5000, 33.5000, 34.5000, 35.5000, 36.5000, 37.5000,\n"
                 "          38.5000, 39.5000, 40.5000, 41.5000, 42.5000, 43.5000, 44.5000,\n"
                 "          45.5000, 46.5000, 47.5000, 48.5000]]])",
                 id="wrap_3d_float"),
    pytest.param(lambda: ndgrad.arange(24).reshape(2, 3, 4),
                 "tensor([[[ 0,  1,  2,  3],\n"
                 "         [ 4,  5,  6,  7],\n"
                 "         [ 8,  9, 10, 11]],\n"
                 "\n"
                 "        [[12, 13, 14, 15],\n"
                 "         [16, 17, 18, 19],\n"
                 "         [20, 21, 22, 23]]])",
                 id="nested_3d"),
    pytest.param(lambda: ndgrad.arange(16.).reshape(2, 2, 2, 2),
                 "tensor([[[[ 0.,  1.],\n"
                 "          [ 2.,  3.]],\n"
                 "\n"
                 "         [[ 4.,  5.],\n"
                 "          [ 6.,  7.]]],\n"
                 "\n"
                 "\n"
                 "        [[[ 8.,  9.],\n"
                 "          [10., 11.]],\n"
                 "\n"
                 "         [[12., 13.],\n"
                 "          [14., 15.]]]])",
                 id="nested_4d"),
    pytest.param(lambda: ndgrad.arange(6).reshape(1, 1, 6),
                 "tensor([[[0, 1, 2, 3, 4, 5]]])",
                 id="nested_singleton"),
    pytest.param(lambda: ndgrad.arange(3.).reshape(3, 1) / 2,
                 "tensor([[0.0000],\n"
                 "        [0.5000],\n"
                 "        [1.0000]])",
                 id="column"),
    pytest.param(lambda: ndgrad.arange(12.).reshape(3, 4).T,
                 "tensor([[ 0.,  4.,  8.],\n"
                 "        [ 1.,  5.,  9.],\n"
                 "        [ 2.,  6., 10.],\n"
                 "        [ 3.,  7., 11.]])",
                 id="noncontig_T"),
    pytest.param(lambda: ndgrad.arange(12).reshape(3, 4)[:, ::2],
                 "tensor([[ 0,  2],\n"
                 "        [ 4,  6],\n"
                 "        [ 8, 10]])",
                 id="noncontig_slice"),
    pytest.param(lambda: ndgrad.tensor([1., 2.], requires_grad=True),
                 "tensor([1., 2.], requires_grad=True)",
                 id="requires_grad"),
    pytest.param(lambda: ndgrad.tensor(1.5, requires_grad=True),
                 "tensor(1.5000, requires_grad=True)",
                 id="requires_grad_0d"),
    pytest.param(lambda: ndgrad.tensor([1., 2.], requires_grad=True) * 2,
                 "tensor([2., 4.], grad_fn=<MulBackward0>)",
                 id="grad_fn_mul"),
    pytest.param(lambda: ndgrad.tensor([1., 2.], requires_grad=True) + 0.5,
                 "tensor([1.5000, 2.5000], grad_fn=<AddBackward0>)",
                 id="grad_fn_add"),
    pytest.param(lambda: ndgrad.tensor([1., 2.], dtype=ndgrad.float64, requires_grad=True),
                 "tensor([1., 2.], dtype=ndgrad.float64, requires_grad=True)",
                 id="requires_grad_float64"),
    pytest.param(lambda: ndgrad.arange(40.).reshape(2, 20).to(ndgrad.float64) / 3,
                 "tensor([[ 0.0000,  0.3333,  0.6667,  1.0000,  1.3333,  1.6667,  2.0000,  2.3333,\n"
                 "          2.6667,  3.0000,  3.3333,  3.6667,  4.0000,  4.3333,  4.6667,  5.0000,\n"
                 "          5.3333,  5.6667,  6.0000,  6.3333],\n"
                 "        [ 6.6667,  7.0000,  7.3333,  7.6667,  8.0000,  8.3333,  8.6667,  9.0000,\n"
                 "          9.3333,  9.6667, 10.0000, 10.3333, 10.6667, 11.0000, 11.3333, 11.6667,\n"
                 "         12.0000, 12.3333, 12.6667, 13.0000]], dtype=ndgrad.float64)",
                 id="suffix_newline"),
    pytest.param(lambda: (ndgrad.arange(12.).reshape(2, 6) / 3).to(ndgrad.float64).requires_grad_(),
                 "tensor([[0.0000, 0.3333, 0.6667, 1.0000, 1.3333, 1.6667],\n"
                 "        [2.0000, 2.3333, 2.6667, 3.0000, 3.3333, 3.6667]], dtype=ndgrad.float64,\n"
                 "       requires_grad=True)",
                 id="suffix_newline_grad"),
    pytest.param(lambda: ndgrad.full((4,), -1000000000, dtype=ndgrad.int32),
                 "tensor([-1000000000, -1000000000, -1000000000, -1000000000], dtype=ndgrad.int32)",
                 id="suffix_exact_fit"),
    pytest.param(lambda: ndgrad.full((1, 1, 7), 10000, dtype=ndgrad.int32),
                 "tensor([[[10000, 10000, 10000, 10000, 10000, 10000, 10000]]],\n"
                 "       dtype=ndgrad.int32)",
                 id="suffix_just_over"),
    pytest.param(lambda: ndgrad.zeros(0, 2, requires_grad=True),
                 "tensor([], size=(0, 2), requires_grad=True)",
                 id="empty_requires_grad"),
]

OPTIONS = [
    pytest.param({"precision": 2}, lambda: ndgrad.tensor([1.12345, -2.5]),
                 "tensor([ 1.12, -2.50])",
                 id="precision_2"),
    pytest.param({"precision": 0}, lambda: ndgrad.tensor([1.5, 2.25]),
                 "tensor([2, 2])",
                 id="precision_0"),
    pytest.param({"precision": 8}, lambda: ndgrad.tensor([1 / 3, 2.]),
                 "tensor([0.33333334, 2.00000000])",
                 id="precision_8"),
    pytest.param({"precision": 1}, lambda: ndgrad.tensor([1e-6, 1.]),
                 "tensor([1.0e-06, 1.0e+00])",
                 id="precision_1_sci"),
    pytest.param({"threshold": 5}, lambda: ndgrad.arange(10),
                 "tensor([0, 1, 2,  ..., 7, 8, 9])",
                 id="threshold_5"),
    pytest.param({"threshold": 10}, lambda: ndgrad.arange(10),
                 "tensor([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])",
                 id="threshold_10_exact"),
    pytest.param({"threshold": 10}, lambda: ndgrad.arange(11),
                 "tensor([ 0,  1,  2,  ...,  8,  9, 10])",
                 id="threshold_10_over"),
    pytest.param({"threshold": 5}, lambda: ndgrad.arange(12.).reshape(3, 4) / 8,
                 "tensor([[0.0000, 0.1250, 0.2500, 0.3750],\n"
                 "        [0.5000, 0.6250, 0.7500, 0.8750],\n"
                 "        [1.0000, 1.1250, 1.2500, 1.3750]])",
                 id="threshold_5_2d"),
    pytest.param({"threshold": 0}, lambda: ndgrad.tensor(2.5),
                 "tensor(2.5000)",
                 id="threshold_0_scalar"),
    pytest.param({"threshold": 5, "edgeitems": 1}, lambda: ndgrad.arange(27).reshape(3, 3, 3),
                 "tensor([[[ 0,  ...,  2],\n"
                 "         ...,\n"
                 "         [ 6,  ...,  8]],\n"
                 "\n"
                 "        ...,\n"
                 "\n"
                 "        [[18,  ..., 20],\n"
                 "         ...,\n"
                 "         [24,  ..., 26]]])",
                 id="edgeitems_1"),
    pytest.param({"edgeitems": 0}, lambda: ndgrad.arange(10),
                 "tensor([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], size=(10,))",
                 id="edgeitems_0"),
    pytest.param({"edgeitems": 0, "threshold": 3}, lambda: ndgrad.arange(12).reshape(3, 4),
                 "tensor([...], size=(3, 4))",
                 id="edgeitems_0_summ"),
    pytest.param({"linewidth": 40}, lambda: ndgrad.arange(20.) / 3,
                 "tensor([0.0000, 0.3333, 0.6667, 1.0000,\n"
                 "        1.3333, 1.6667, 2.0000, 2.3333,\n"
                 "        2.6667, 3.0000, 3.3333, 3.6667,\n"
                 "        4.0000, 4.3333, 4.6667, 5.0000,\n"
                 "        5.3333, 5.6667, 6.0000, 6.3333])",
                 id="linewidth_40"),
    pytest.param({"linewidth": 10}, lambda: ndgrad.tensor([[123456, 2], [3, 4]]),
                 "tensor([[123456,\n"
                 "              2],\n"
                 "        [     3,\n"
                 "              4]])",
                 id="linewidth_10"),
    pytest.param({"linewidth": 30}, lambda: ndgrad.tensor([1, 2, 3], dtype=ndgrad.int8),
                 "tensor([1, 2, 3],\n"
                 "       dtype=ndgrad.int8)",
                 id="linewidth_suffix"),
    pytest.param({"sci_mode": True}, lambda: ndgrad.tensor([1.5, 2.]),
                 "tensor([1.5000e+00, 2.0000e+00])",
                 id="sci_true"),
    pytest.param({"sci_mode": False}, lambda: ndgrad.tensor([1e-6, 1e9]),
                 "tensor([         0.0000, 1000000000.0000])",
                 id="sci_false"),
    pytest.param({"sci_mode": False}, lambda: ndgrad.tensor([1e-6, 1.]),
                 "tensor([0.0000, 1.0000])",
                 id="sci_false_small"),
    pytest.param({"sci_mode": True}, lambda: ndgrad.tensor([1, 2]),
                 "tensor([1, 2])",
                 id="sci_true_int"),
    pytest.param({"profile": "short"}, lambda: ndgrad.arange(10.) / 3,
                 "tensor([0.00, 0.33, 0.67, 1.00, 1.33, 1.67, 2.00, 2.33, 2.67, 3.00])",
                 id="profile_short"),
    pytest.param({"profile": "short"}, lambda: ndgrad.arange(2000),
                 "tensor([   0,    1,  ..., 1998, 1999])",
                 id="profile_short_summ"),
    pytest.param({"profile": "short", "precision": 3}, lambda: ndgrad.tensor([1 / 3]),
                 "tensor([0.333])",
                 id="profile_short_override"),
]

DEFAULT_FLOAT64 = [
    pytest.param(lambda: ndgrad.tensor([1.5, 2.]),
                 "tensor([1.5000, 2.0000])",
                 id="f64_float"),
    pytest.param(lambda: ndgrad.tensor([1.5, 2.], dtype=ndgrad.float32),
                 "tensor([1.5000, 2.0000], dtype=ndgrad.float32)",
                 id="f64_float32"),
    pytest.param(lambda: ndgrad.tensor([1 + 1j]),
                 "tensor([1.+1.j])",
                 id="f64_complex128"),
    pytest.param(lambda: ndgrad.tensor([1 + 1j], dtype=ndgrad.complex64),
                 "tensor([1.+1.j], dtype=ndgrad.complex64)",
                 id="f64_complex64"),
    pytest.param(lambda: ndgrad.zeros(0, dtype=ndgrad.float32),
                 "tensor([], dtype=ndgrad.float32)",
                 id="f64_empty_float32"),
    pytest.param(lambda: ndgrad.zeros(2, 0),
                 "tensor([], size=(2, 0))",
                 id="f64_empty_default"),
    pytest.param(lambda: ndgrad.tensor([1, 2]),
                 "tensor([1, 2])",
                 id="f64_int"),
    pytest.param(lambda: ndgrad.tensor([0.1]),
                 "tensor([0.1000])",
                 id="f64_precision"),
]


@pytest.mark.parametrize("make, expected", BASIC)
def test_repr(make, expected):
    assert repr(make()) == expected


@pytest.mark.parametrize("options, make, expected", OPTIONS)
def test_repr_with_printoptions(options, make, expected):
    ndgrad.set_printoptions(**options)
    assert repr(make()) == expected


@pytest.mark.parametrize("make, expected", DEFAULT_FLOAT64)
def test_repr_with_default_float64(make, expected):
    ndgrad.set_default_dtype(ndgrad.float64)
    assert repr(make()) == expected


def test_str_is_repr():
    t = ndgrad.tensor([[1.5, -2.0], [3.0, 4.25]])
    assert str(t) == repr(t) == "tensor([[ 1.5000, -2.0000],\n        [ 3.0000,  4.2500]])"


def test_default_float16_suffixes():
    ndgrad.set_default_dtype(ndgrad.float16)
    assert repr(ndgrad.tensor([1.5, 2.0])) == "tensor([1.5000, 2.0000])"
    assert repr(ndgrad.tensor([1.5], dtype=ndgrad.float32)) == "tensor([1.5000], dtype=ndgrad.float32)"
    assert repr(ndgrad.tensor([1j], dtype=ndgrad.complex64)) == "tensor([0.+1.j])"


# -- print options -------------------------------------------------------------

DEFAULTS = {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80, "sci_mode": None}


def test_get_printoptions_defaults():
    assert _printing.get_printoptions() == DEFAULTS
    assert list(_printing.get_printoptions()) == list(DEFAULTS)


def test_set_printoptions_profiles():
    ndgrad.set_printoptions(profile="short")
    assert _printing.get_printoptions() == dict(DEFAULTS, precision=2, edgeitems=2)
    ndgrad.set_printoptions(profile="full")
    assert _printing.get_printoptions() == dict(DEFAULTS, threshold=inf)
    ndgrad.set_printoptions(profile="default")
    assert _printing.get_printoptions() == DEFAULTS


def test_set_printoptions_unknown_profile_keeps_values():
    ndgrad.set_printoptions(precision=6)
    ndgrad.set_printoptions(profile="nonsense")
    assert _printing.get_printoptions()["precision"] == 6


def test_set_printoptions_resets_sci_mode_each_call():
    # As in PyTorch, sci_mode is set by every call, to None when not given.
    ndgrad.set_printoptions(sci_mode=True)
    assert _printing.get_printoptions()["sci_mode"] is True
    ndgrad.set_printoptions(precision=3)
    assert _printing.get_printoptions() == dict(DEFAULTS, precision=3)


def test_profile_full_shows_everything():
    ndgrad.set_printoptions(threshold=5)
    assert repr(ndgrad.arange(10)) == "tensor([0, 1, 2,  ..., 7, 8, 9])"
    ndgrad.set_printoptions(profile="full")
    assert repr(ndgrad.arange(10)) == "tensor([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])"


def test_get_printoptions_round_trips():
    ndgrad.set_printoptions(precision=2, threshold=7, edgeitems=1, linewidth=50, sci_mode=False)
    saved = _printing.get_printoptions()
    ndgrad.set_printoptions(profile="default")
    ndgrad.set_printoptions(**saved)
    assert _printing.get_printoptions() == saved


def test_printoptions_context_manager():
    with _printing.printoptions(precision=1, sci_mode=True):
        assert repr(ndgrad.tensor([1.25])) == "tensor([1.2e+00])"
    assert _printing.get_printoptions() == DEFAULTS
    assert repr(ndgrad.tensor([1.25])) == "tensor([1.2500])"


# -- tensor_repr on minimal objects (autograd-independent) ------------------------

class _Node:
    def __init__(self, name: str) -> None:
        self._name = name

    def name(self) -> str:
        return self._name


class Tensor:
    """The attributes tensor_repr reads, and nothing else."""

    def __init__(self, data, dtype, grad_fn=None, requires_grad=False) -> None:
        self._data = np.asarray(data, dtype=dtype.np)
        self._dtype = dtype
        self.grad_fn = grad_fn
        self._requires_grad = requires_grad


class MyTensor(Tensor):
    pass


def test_tensor_repr_grad_fn_from_node_name():
    t = Tensor([1.0, 2.0], ndgrad.float32, grad_fn=_Node("SumBackward0"), requires_grad=True)
    assert _printing.tensor_repr(t) == "tensor([1., 2.], grad_fn=<SumBackward0>)"


def test_tensor_repr_grad_fn_wraps_with_dtype():
    data = np.arange(12.0).reshape(2, 6) / 3
    t = Tensor(data, ndgrad.float64, grad_fn=_Node("DivBackward0"), requires_grad=True)
    assert _printing.tensor_repr(t) == (
        "tensor([[0.0000, 0.3333, 0.6667, 1.0000, 1.3333, 1.6667],\n"
        "        [2.0000, 2.3333, 2.6667, 3.0000, 3.3333, 3.6667]], dtype=ndgrad.float64,\n"
        "       grad_fn=<DivBackward0>)")


def test_tensor_repr_requires_grad_leaf():
    t = Tensor(2.5, ndgrad.float32, requires_grad=True)
    assert _printing.tensor_repr(t) == "tensor(2.5000, requires_grad=True)"


def test_tensor_repr_subclass_prefix():
    t = MyTensor([1.0, 2.0], ndgrad.float32)
    assert _printing.tensor_repr(t) == "MyTensor([1., 2.])"


class _Device:
    type = "cuda"

    def __str__(self) -> str:
        return "cuda:0"


def test_tensor_repr_device_suffix():
    t = Tensor([1.0, 2.0], ndgrad.float32, requires_grad=True)
    t.device = _Device()
    assert _printing.tensor_repr(t) == "tensor([1., 2.], device='cuda:0', requires_grad=True)"


def test_tensor_repr_custom_contents():
    t = Tensor([1, 2], ndgrad.int8)
    assert _printing.tensor_repr(t, tensor_contents="[...]") == "tensor([...], dtype=ndgrad.int8)"


def test_tensor_repr_non_contiguous_view():
    base = np.arange(24, dtype=np.int64).reshape(2, 3, 4)
    t = Tensor(base.transpose(2, 0, 1)[::2], ndgrad.int64)
    assert _printing.tensor_repr(t) == (
        "tensor([[[ 0,  4,  8],\n"
        "         [12, 16, 20]],\n"
        "\n"
        "        [[ 2,  6, 10],\n"
        "         [14, 18, 22]]])")


def test_special_values_raise_no_numpy_warnings():
    values = [nan, inf, -inf, 0.0, -0.0, 1e-300, 1e300, 5e-324, 1.7e308]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for dt in (ndgrad.float16, ndgrad.float32, ndgrad.float64, ndgrad.complex64):
            with np.errstate(over="ignore"):
                t = Tensor(values, dt)
            _printing.tensor_repr(t)
    t = Tensor([5e-324, 1.7e308], ndgrad.float64)
    assert _printing.tensor_repr(t) == "tensor([4.9407e-324, 1.7000e+308], dtype=ndgrad.float64)"


# -- live comparison with PyTorch ---------------------------------------------------

def _random_arrays(rng: np.random.Generator) -> list[np.ndarray]:
    shapes = [(), (1,), (5,), (0,), (3, 0), (2, 3), (4, 1, 3), (2, 3, 4, 2), (30,), (7, 13),
              (1001,), (40, 40), (3, 400), (12, 10, 10)]
    scales = [1.0, 1e-3, 1e-6, 1e5, 1e9, 1e-30, 1e200]
    arrays = []
    for shape in shapes:
        n = int(np.prod(shape))
        arrays.append((rng.random(n) > 0.5).reshape(shape))
        for dt in (np.uint8, np.int8, np.int16, np.int32, np.int64):
            info = np.iinfo(dt)
            arrays.append(rng.integers(info.min, info.max, n, dtype=dt, endpoint=True).reshape(shape))
            arrays.append(rng.integers(-5 if info.min else 0, 6, n).astype(dt).reshape(shape))
        for dt in (np.float16, np.float32, np.float64):
            for scale in scales:
                arrays.append((rng.standard_normal(n) * scale).astype(dt).reshape(shape))
            arrays.append(rng.integers(-1000, 1000, n).astype(dt).reshape(shape))
            mixed = rng.standard_normal(n) * 10.0 ** rng.integers(-6, 7, n)
            arrays.append(mixed.astype(dt).reshape(shape))
            special = rng.choice([0.0, -0.0, nan, inf, -inf, 1.0, 2.5, -3.0, 1e-5, 1e9], n)
            arrays.append(special.astype(dt).reshape(shape))
        for dt in (np.complex64, np.complex128):
            re = rng.standard_normal(n) * rng.choice(scales)
            im = rng.integers(-9, 9, n) * rng.choice([1.0, 1e-7, 1e7])
            arrays.append((re + 1j * im).astype(dt).reshape(shape))
    return arrays


OPTION_SETS = [
    {},
    {"precision": 2, "linewidth": 60},
    {"threshold": 20, "edgeitems": 2},
    {"sci_mode": True, "precision": 3},
    {"sci_mode": False},
    {"profile": "short", "linewidth": 120},
]


def _reprs(L, arrays: list, default: str, options: dict) -> list[str]:
    """repr of every array as a tensor of library L under the default dtype and print options."""
    L.set_default_dtype(getattr(L, default))
    L.set_printoptions(profile="default")
    L.set_printoptions(**options)
    try:
        return [repr(L.tensor(a, requires_grad=a.dtype.kind in "fc" and i % 5 == 0)) for i, a in enumerate(arrays)]
    finally:
        L.set_printoptions(profile="default")
        L.set_default_dtype(L.float32)


def test_random_arrays_match_torch(torch_ref):
    """602 arrays (every dtype, shapes up to summarised sizes, special values) under 8 option sets
    print as PyTorch prints them (its texts recorded as digests: tests/_refs.digest)."""
    rng = np.random.default_rng(20240613)
    with np.errstate(over="ignore"):  # float16 casts of huge values become inf, on purpose
        arrays = _random_arrays(rng)
    for default, option_sets in (("float32", OPTION_SETS), ("float64", OPTION_SETS[:2])):
        for k, options in enumerate(option_sets):
            want = torch_ref(f"{default}-{k}", lambda torch, d=default, o=options: [
                digest(r.replace("torch.", "ndgrad.")) for r in _reprs(torch, arrays, d, o)])
            for arr, got, w in zip(arrays, _reprs(ndgrad, arrays, default, options), want, strict=True):
                assert digest(got) == w, (f"{default}, {options}, {arr.dtype} {arr.shape}: PyTorch prints otherwise "
                                          f"than\n{got}")
