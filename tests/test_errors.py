"""Bad calls raise the exception type PyTorch raises, with a message naming the problem.

Each case is an expression over `L` (the library) with the exception type and key words of
the message, all recorded from PyTorch 2.13. `test_matches_torch_live` checks that torch
itself raises that type with those words (live, or from tests/references without torch), so
the expectations cannot drift from the oracle. No NumPy error text may
leak: NumPy's own exception messages are checked for too.
"""
from __future__ import annotations

import re
import warnings
from typing import Any

import numpy as np
import pytest

import ndgrad


# (expression, exception type, key words (a regex-escaped substring of PyTorch's message))
CASES = [
    ("L.ones(2, 3) + L.ones(2, 4)", RuntimeError,
     "The size of tensor a (3) must match the size of tensor b (4) at non-singleton dimension 1"),
    ("L.ones(3) * L.ones(4)", RuntimeError,
     "The size of tensor a (3) must match the size of tensor b (4) at non-singleton dimension 0"),
    ("L.ones(2, 3) @ L.ones(4, 5)", RuntimeError, "mat1 and mat2 shapes cannot be multiplied (2x3 and 4x5)"),
    ("L.mm(L.ones(2, 3), L.ones(4, 5))", RuntimeError, "mat1 and mat2 shapes cannot be multiplied (2x3 and 4x5)"),
    ("L.mm(L.ones(3), L.ones(3, 2))", RuntimeError, "self must be a matrix"),
    ("L.matmul(L.ones(2, 3, 4), L.ones(5, 6))", RuntimeError,
     "mat1 and mat2 shapes cannot be multiplied (6x4 and 5x6)"),
    ("L.matmul(L.ones(2, 2, 3), L.ones(3, 3, 2))", RuntimeError,
     "The size of tensor a (2) must match the size of tensor b (3) at non-singleton dimension 0"),
    ("L.matmul(L.tensor(1.0), L.ones(2))", RuntimeError, "both arguments to matmul need to be at least 1D"),
    ("L.mv(L.ones(2, 3), L.ones(4))", RuntimeError, "size mismatch, got input (2), mat (2x3), vec (4)"),
    ("L.dot(L.ones(3), L.ones(4))", RuntimeError, "inconsistent tensor size, expected tensor [3] and src [4]"),
    ("L.dot(L.ones(3), L.ones(3, dtype=L.float64))", RuntimeError, "found Float and Double"),
    ("L.mm(L.ones(2, 2), L.ones(2, 2, dtype=L.float64))", RuntimeError,
     "expected m1 and m2 to have the same dtype, but got: float != double"),
    ("L.bmm(L.ones(2, 3, 4), L.ones(3, 4, 5))", RuntimeError,
     "Expected size for first two dimensions of batch2 tensor to be: [2, 4] but got: [3, 4]."),
    ("L.bmm(L.ones(3, 4), L.ones(4, 5))", RuntimeError, "batch1 must be a 3D tensor"),
    ("L.ones(2, 3).t().view(6)", RuntimeError, "view size is not compatible with input tensor's size and stride"),
    ("L.ones(2, 3).view(4, -1)", RuntimeError, "shape '[4, -1]' is invalid for input of size 6"),
    ("L.ones(2, 3).view(-1, -1)", RuntimeError, "only one dimension can be inferred"),
    ("L.ones(2, 3).reshape(5)", RuntimeError, "shape '[5]' is invalid for input of size 6"),
    ("L.ones(2, 3).reshape(2, 2.5)", TypeError, "type must be tuple of ints,but got float"),
    ("L.ones(3, dtype=L.int64).requires_grad_()", RuntimeError, "floating point"),
    ("L.tensor([1, 2], requires_grad=True)", RuntimeError,
     "Only Tensors of floating point and complex dtype can require gradients"),
    ("L.tensor([[1, 2], [3]])", ValueError, "expected sequence of length 2 at dim 1 (got 1)"),
    ("L.tensor([[1, 2], 3])", TypeError, "not a sequence"),
    ("L.tensor(['a'])", ValueError, "too many dimensions 'str'"),
    ("L.tensor([1, None])", RuntimeError, "Could not infer dtype of NoneType"),
    ("L.ones(2, 3).sum(2)", IndexError, "Dimension out of range (expected to be in range of [-2, 1], but got 2)"),
    ("L.ones(2, 3).sum(-3)", IndexError, "Dimension out of range (expected to be in range of [-2, 1], but got -3)"),
    ("L.ones(2, 3).transpose(0, 2)", IndexError, "Dimension out of range"),
    ("L.ones(2, 3).unsqueeze(3)", IndexError, "Dimension out of range (expected to be in range of [-3, 2], but got 3)"),
    ("L.ones(2, 3).size(2)", IndexError, "Dimension out of range"),
    ("L.ones(2, 3).max(2)", IndexError, "Dimension out of range"),
    ("L.ones(2, 3).cumsum(5)", IndexError, "Dimension out of range"),
    ("L.ones(2, 3).flip(5)", IndexError, "Dimension out of range"),
    ("L.ones(2, 3).squeeze(5)", IndexError, "Dimension out of range"),
    ("L.sum(L.ones(2), dim=(0, 0))", RuntimeError, "dim 0 appears multiple times in the list of dims"),
    ("L.ones(2, 3).permute(0, 0)", RuntimeError, "permute(): duplicate dims are not allowed."),
    ("L.ones(2, 3).permute(0)", RuntimeError, "number of dimensions in the tensor input does not match"),
    ("L.ones(2, 3)[2]", IndexError, "index 2 is out of bounds for dimension 0 with size 2"),
    ("L.ones(2, 3)[0, 3]", IndexError, "index 3 is out of bounds for dimension 1 with size 3"),
    ("L.ones(2, 3)[0, 0, 0]", IndexError, "too many indices for tensor of dimension 2"),
    ("L.ones(2, 3)[1.0]", IndexError, "only integers, slices (`:`), ellipsis (`...`), None and long or byte"),
    ("L.ones(2, 3)[L.tensor([0.0])]", IndexError, "tensors used as indices must be long, int, byte or bool tensors"),
    ("L.ones(2, 3)[:, L.tensor([True, False])]", IndexError, "The shape of the mask [2] at index 0 does not match"),
    ("L.ones(2, 3)[::0]", ValueError, "slice step cannot be zero"),
    ("L.tensor(5)[0]", IndexError, "invalid index of a 0-dim tensor"),
    ("L.ones(2).item()", RuntimeError, "a Tensor with 2 elements cannot be converted to Scalar"),
    ("bool(L.ones(2))", RuntimeError, "Boolean value of Tensor with more than one value is ambiguous"),
    ("float(L.ones(2))", ValueError, "only one element tensors can be converted to Python scalars"),
    ("[1, 2][L.tensor(1.0)]", TypeError, "only integer tensors of a single element can be converted to an index"),
    ("len(L.tensor(1.0))", TypeError, "len() of a 0-d tensor"),
    ("L.ones(2, 3).expand(2, 4)", RuntimeError,
     "The expanded size of the tensor (4) must match the existing size (3) at non-singleton dimension 1"),
    ("L.ones(2, 3).expand(3)", RuntimeError, "the number of sizes provided (1) must be greater or equal"),
    ("L.inner(L.ones(2, 4), L.ones(3, 5))", RuntimeError, "inner() the last dimension must match on both input"),
    ("L.ones(3, 4).unflatten(1, (3, -1))", RuntimeError, "unflatten: Provided sizes [3, -1] don't multiply up"),
    ("L.ones(3, 4).take(L.tensor([0, 12]))", IndexError, "out of range: tried to access index 12 on a tensor of 12"),
    ("L.is_nonzero(L.tensor([]))", RuntimeError, "Boolean value of Tensor with no values is ambiguous"),
    ("L.ones(2, 3, 4).sum((1, 0, 0))", RuntimeError, "dim 0 appears multiple times in the list of dims"),
    ("L.zeros(2, 3, dtype=L.int64).expand(3)", RuntimeError, "expand(torch.LongTensor{[2, 3]}, size=[3])"),
    ("L.cat([L.ones(2, 3), L.ones(2, 4)])", RuntimeError,
     "Sizes of tensors must match except in dimension 0. Expected size 3 but got size 4 for tensor number 1"),
    ("L.cat([L.ones(2, 3), L.ones(3)])", RuntimeError, "Tensors must have same number of dimensions: got 2 and 1"),
    ("L.cat([L.tensor(1.0), L.tensor(2.0)])", RuntimeError, "zero-dimensional tensor (at position 0) cannot be"),
    ("L.cat([])", ValueError, "expected a non-empty list of Tensors"),
    ("L.stack([L.ones(2), L.ones(3)])", RuntimeError,
     "stack expects each tensor to be equal size, but got [2] at entry 0 and [3] at entry 1"),
    ("L.ones(2, 3).narrow(1, 1, 5)", RuntimeError, "start (1) + length (5) exceeds dimension size (3)."),
    ("L.ones(2, 3).narrow(1, 4, 1)", IndexError, "start out of range"),
    ("L.ones(2, 3).split([1, 1], 1)", RuntimeError, "split_with_sizes expects split_sizes to sum exactly to 3"),
    ("L.ones(2, 3).chunk(0)", RuntimeError, "chunk expects `chunks` to be greater than 0, got: 0"),
    ("L.ones(2, 3).flatten(1, 0)", RuntimeError, "start_dim cannot come after end_dim"),
    ("L.ones(2, 3).unflatten(1, (2, 2))", RuntimeError, "Provided sizes [2, 2] don't multiply up to the size of dim 1"),
    ("L.ones(2, 3, 4).t()", RuntimeError, "t() expects a tensor with <= 2 dimensions, but self is 3D"),
    ("L.ones(3).mT", RuntimeError, "tensor.mT is only supported on matrices or batches of matrices"),
    ("L.ones(2, 3).repeat(2)", RuntimeError, "Number of dimensions of repeat dims can not be smaller"),
    ("L.ones(2, 3).movedim((0, 1), 0)", TypeError, "movedim() received an invalid combination of arguments"),
    ("L.arange(6).mean()", RuntimeError, "mean(): could not infer output dtype"),
    ("L.arange(6).std()", RuntimeError, "std and var only support floating point and complex dtypes"),
    ("L.linalg.vector_norm(L.arange(6))", RuntimeError,
     "Expected a floating point or complex tensor as input. Got Long"),
    ("L.ones(0).max()", RuntimeError, "Expected reduction dim to be specified for input.numel() == 0"),
    ("L.ones(0, 3).max(0)", IndexError, "Expected reduction dim 0 to have non-zero size"),
    ("L.ones(0).argmax()", IndexError, "Expected reduction dim to be specified for input.numel() == 0"),
    ("L.ones(3).topk(4)", RuntimeError, "selected index k out of range"),
    ("L.ones(2, 3).clamp()", RuntimeError, "At least one of 'min' or 'max' must not be None"),
    ("L.tensor([True]) - L.tensor([True])", RuntimeError, "Subtraction, the `-` operator, with two bool tensors"),
    ("-L.tensor([True])", RuntimeError, "Negation, the `-` operator, on a bool tensor is not supported"),
    ("~L.ones(2)", TypeError, "~ (operator.invert) is only implemented on integer and Boolean-type tensors"),
    ("L.bitwise_and(L.ones(2), L.ones(2))", NotImplementedError, "\"bitwise_and_cpu\" not implemented for 'Float'"),
    ("L.tensor([1, 2]) ** -1", RuntimeError, "Integers to negative integer powers are not allowed."),
    ("L.tensor([1, 2]) // 0", RuntimeError, "ZeroDivisionError"),
    ("L.tensor([1, 2]) % 0", RuntimeError, "ZeroDivisionError"),
    ("L.where(L.tensor([1, 0]), 1.0, 0.0)", RuntimeError, "where expected condition to be a boolean tensor"),
    ("L.ones(2).masked_fill(L.tensor([1, 0]), 1.0)", RuntimeError,
     "masked_fill_ only supports boolean masks, but got mask with dtype long int"),
    ("L.ones(2).masked_fill(L.tensor([True, False]), L.ones(2))", RuntimeError,
     "masked_fill_ only supports a 0-dimensional value tensor"),
    ("L.ones(2, 3).gather(1, L.tensor([[3]]))", RuntimeError, "index 3 is out of bounds for dimension 1 with size 3"),
    ("L.ones(2, 3).gather(1, L.tensor([[-1]]))", RuntimeError, "index -1 is out of bounds for dimension 1 with size 3"),
    ("L.ones(2, 3).gather(1, L.tensor([[0.0]]))", RuntimeError, "gather(): Expected dtype int32/int64 for index"),
    ("L.ones(2, 3).gather(1, L.tensor([0]))", RuntimeError,
     "Index tensor must have the same number of dimensions as input tensor"),
    ("L.ones(2, 3).index_select(0, L.tensor([[0]]))", IndexError, "index_select(): Index is supposed to be a vector"),
    ("L.ones(2, 3).index_select(0, L.tensor([0.0]))", RuntimeError, "Expected dtype int32 or int64 for index"),
    ("L.ones(2, 3).index_select(1, L.tensor([3]))", RuntimeError, "INDICES element is out of DATA bounds"),
    ("L.einsum('ij->k', L.ones(2, 3))", RuntimeError, "output subscript k does not appear in the equation"),
    ("L.linalg.eigh(L.ones(2, 3))", RuntimeError, "linalg.eigh: A must be batches of square matrices"),
    ("L.linalg.svd(L.ones(3))", RuntimeError, "linalg.svd: The input tensor A must have at least 2 dimensions."),
    ("L.linalg.qr(L.ones(3))", RuntimeError, "linalg.qr: The input tensor A must have at least 2 dimensions."),
    ("L.unique(L.ones(2, 3), dim=5)", IndexError, "Dimension out of range (expected to be in range of [-2, 1]"),
    ("L.ones(2, 3).repeat_interleave(L.tensor([1, 2]), 1)", RuntimeError,
     "repeats must have the same size as input along dim, but got repeats.size(0) = 2 and input.size(1) = 3"),
    ("L.ones(2, 3).index_select(0, L.tensor([2]))", IndexError, "index out of range in self"),
    ("L.ones(2, 3, 4).index_select(2, L.tensor([-1]))", IndexError, "index out of range in self"),
    ("L.ones(2, 3).scatter(1, L.tensor([[5]]), 1.0)", RuntimeError, "index 5 is out of bounds for dimension 1"),
    ("L.ones(3, dtype=L.int64).add_(1.5)", RuntimeError,
     "result type Float can't be cast to the desired output type Long"),
    ("L.ones(3).add_(L.ones(2, 3))", RuntimeError, "output with shape [3] doesn't match the broadcast shape [2, 3]"),
    ("L.ones(3, requires_grad=True).add_(1)", RuntimeError, "a leaf Variable that requires grad is being used in an "
                                                            "in-place operation."),
    ("L.ones(1, 3).expand(2, 3).add_(1)", RuntimeError, "more than one element of the written-to tensor refers to a "
                                                        "single memory location"),
    ("L.ones(2, 3).copy_(L.ones(4))", RuntimeError, "The size of tensor a (3) must match the size of tensor b (4)"),
    ("L.ones(2, 3).fill_(L.ones(2))", RuntimeError, "fill_ only supports 0-dimension value tensor"),
    ("L.linalg.inv(L.ones(2, 3))", RuntimeError, "A must be batches of square matrices, but they are 2 by 3 matrices"),
    ("L.linalg.inv(L.tensor([[1.0, 2.0], [2.0, 4.0]]))", RuntimeError, "the input matrix is singular"),
    ("L.linalg.inv(L.tensor([[1, 2], [3, 4]]))", RuntimeError, "Expected a floating point or complex tensor as input"),
    ("L.linalg.det(L.ones(3))", RuntimeError, "The input tensor A must have at least 2 dimensions."),
    ("L.linalg.solve(L.eye(2), L.ones(3))", RuntimeError, "Incompatible shapes of A and B for the equation AX = B"),
    ("L.linalg.solve(L.zeros(2, 2), L.ones(2))", RuntimeError,
     "The solver failed because the input matrix is singular"),
    ("L.einsum('ij,jk->ik', L.ones(2, 3))", RuntimeError,
     "fewer operands were provided than specified in the equation"),
    ("L.einsum('ij->ij', L.ones(2, 3, 4))", RuntimeError, "does not match the number of dimensions (3) for operand 0"),
    ("L.tensordot(L.ones(2, 3), L.ones(4, 5), dims=1)", RuntimeError, "contracted dimensions need to match"),
    ("L.arange(0, 10, 0)", RuntimeError, "step must be nonzero"),
    ("L.arange(0, 10, -1)", RuntimeError, "upper bound and lower bound inconsistent with step sign"),
    ("L.linspace(0, 1, -1)", RuntimeError, "number of steps must be non-negative"),
    ("L.eye(-1)", RuntimeError, "n must be greater or equal to 0, got -1"),
    ("L.randint(5, 5, (2,))", RuntimeError, "random_ expects 'from' to be less than 'to', but got from=5 >= to=5"),
    ("L.rand(2, dtype=L.int64)", NotImplementedError, "\"check_uniform_bounds\" not implemented for 'Long'"),
    ("L.multinomial(L.tensor([0.2, 0.8]), 3)", RuntimeError, "cannot sample n_sample > prob_dist.size(-1) samples"),
    ("L.ones(2).to('cuda')", AssertionError, "Torch not compiled with CUDA enabled"),
    ("L.ones(2).cuda()", AssertionError, "Torch not compiled with CUDA enabled"),
    ("L.set_default_dtype(L.int64)", TypeError, "only floating-point types are supported as the default type"),
    ("L.ones(2) + 'a'", TypeError, "unsupported operand type(s) for +"),
    ("L.add('a', L.ones(2))", TypeError, "add(): argument 'input' (position 1) must be Tensor, not str"),
    ("L.exp([1.0, 2.0])", TypeError, "exp(): argument 'input' (position 1) must be Tensor, not list"),
    ("L.mm(L.ones(2, 2), [[1.0]])", TypeError, "mm(): argument 'mat2' (position 2) must be Tensor, not list"),
    ("L.maximum(L.ones(2), 1.0)", TypeError, "maximum(): argument 'other' (position 2) must be Tensor, not float"),
    ("L.ones(2).backward()", RuntimeError, "element 0 of tensors does not require grad and does not have a grad_fn"),
    ("L.ones(2, requires_grad=True).numpy()", RuntimeError, "Can't call numpy() on Tensor that requires grad"),
    ("L.from_numpy([1, 2])", TypeError, "expected np.ndarray (got list)"),
    ("L.ones(2, 3).quantile(1.5)", RuntimeError, "quantile() q must be in the range [0, 1] but got 1.5"),
    ("L.ones(2, 3, dtype=L.int64).quantile(0.5)", RuntimeError,
     "quantile() input tensor must be either float or double"),
    ("L.linalg.matrix_norm(L.ones(3))", RuntimeError, "The input tensor A must have at least 2 dimensions."),
    ("L.ones(2, 3, 4).diag()", RuntimeError, "diag(): Supports 1D or 2D tensors. Got 3D"),
    ("L.ones(3).tril()", RuntimeError, "tril: input tensor must have at least 2 dimensions"),
    ("L.ones(2, 3).outer(L.ones(2))", RuntimeError, "outer: Expected 1-D argument self, but got 2-D"),
    ("L.ones(2, 3).div(2, rounding_mode='bad')", RuntimeError, "div expected rounding_mode to be one of None"),
    ("L.meshgrid(L.ones(2, 2), indexing='ij')", RuntimeError, "Expected 0D or 1D tensor in the tensor list"),
    ("L.ones(2).type('torch.Foo')", ValueError, "invalid type: 'torch.Foo'"),
    ("L.ones(2, 3).norm(p='abc')", RuntimeError, "Order abc not supported"),
    ("L.tensor([1, 2]).add(L.tensor([1, 1]), alpha=0.5)", RuntimeError,
     "For integral input tensors, argument alpha must not be a floating point number."),
    ("L.lerp(L.ones(2), L.ones(2, dtype=L.float64), 0.5)", RuntimeError,
     "expected dtype float for `end` but got dtype double"),
    ("L.relu(L.tensor([True]))", RuntimeError, "Boolean inputs not supported for relu"),
    ("L.tensor([True]).abs()", NotImplementedError, "\"abs_cpu\" not implemented for 'Bool'"),
    ("L.tensor([True]).floor()", NotImplementedError, "not implemented for 'Bool'"),
    ("L.ones(3).uniform_(3, 1)", RuntimeError,
     "uniform_ expects to return a [from, to) range, but found from=3 > to=1"),
    ("L.ones(2, 3).view(2, 1.5)", TypeError, "type must be tuple of ints,but got float"),
    ("L.diff(L.tensor(1.0))", RuntimeError, "diff expects input to be at least one-dimensional"),
    ("L.zeros(3, 4).scatter(1, L.tensor([[0]]), L.ones(3, 4, dtype=L.int64))", RuntimeError,
     "scatter(): Expected self.dtype to be equal to src.dtype"),
    ("L.zeros(3, 4).scatter_add(1, L.tensor([[0]]), L.ones(3, 4, 5))", RuntimeError,
     "Index tensor must have the same number of dimensions as src tensor"),
    ("L.index_put(L.zeros(3), (L.tensor([0]),), L.tensor([1]))", RuntimeError,
     "Index put requires the source and destination dtypes match"),
    ("L.zeros(3, 4).index_add(0, L.tensor([0]), L.ones(1, 4, dtype=L.int64))", RuntimeError,
     "must have the same scalar type"),
    ("L.zeros(3, 4).index_add(0, L.tensor([0.0]), L.ones(1, 4))", RuntimeError, "Expected dtype int32/int64 for index"),
    ("L.zeros(2, 3).masked_scatter(L.ones(2, 3) > 0, L.ones(2))", RuntimeError,
     "Number of elements of source < number of ones in mask"),
    ("L.einsum('ij,jk', L.ones(2, 3), L.ones(3, 2, dtype=L.float64))", RuntimeError,
     "expected scalar type Float but found Double"),
    ("L.meshgrid(L.arange(2), L.ones(2), indexing='ij')", RuntimeError,
     "meshgrid expects all tensors to have the same dtype"),
    ("L.nanmean(L.arange(3))", RuntimeError, "nanmean(): expected input to have floating point or complex dtype"),
    ("L.histc(L.arange(3))", NotImplementedError, "\"histogram_cpu\" not implemented for 'Long'"),
    ("L.ones(3).kthvalue(4)", RuntimeError, "kthvalue(): selected number k out of range for dimension 0"),
    ("L.bincount(L.tensor([1, -1]))", RuntimeError, "bincount only supports 1-d non-negative integral inputs."),
    ("L.bincount(L.tensor([1, 2]), L.ones(3))", RuntimeError, "weights should be 1-d and have the same length"),
    ("L.take(L.ones(3), L.tensor([0.0]))", RuntimeError, "take(): Expected a long tensor for index, but got Float"),
    ("L.linalg.cross(L.ones(4, 3), L.ones(3))", RuntimeError, "inputs must have the same number of dimensions"),
    ("L.linalg.matrix_power(L.ones(2, 3), 2)", RuntimeError, "A must be batches of square matrices"),
    ("L.cdist(L.ones(3), L.ones(3))", RuntimeError, "cdist only supports at least 2D tensors, X1 got: 1D"),
    ("L.tensordot(L.ones(2, 3), L.ones(3, 2), dims=([0, 1], [1]))", RuntimeError,
     "both dimension lists should have same length"),
    ("L.arange(4).roll((1, 2), 0)", RuntimeError, "shifts and dimensions must align"),
    ("L.arange(4).rot90()", RuntimeError, "expected total dims >= 2, but got total dims = 1"),
    ("L.tensor(1.0).split(1)", RuntimeError, "split expects at least a 1-dimensional tensor"),
    ("L.tensor(1.0).chunk(2)", RuntimeError, "chunk expects at least a 1-dimensional tensor"),
    ("L.tensor(1.0).unbind()", IndexError, "Dimension specified as 0 but tensor has no dimensions"),
    ("L.tensor(1.0).roll(1, 0)", IndexError, "Dimension specified as 0 but tensor has no dimensions"),
    ("L.ones(2, 3).repeat(-1, 1)", RuntimeError, "Trying to create tensor with negative dimension -2: [-2, 3]"),
    ("L.arange(3).repeat_interleave(-1)", RuntimeError, "Repeats must be non-negative"),
    ("L.ones(3).fliplr()", RuntimeError, "Input must be >= 2-d."),
    ("L.isclose(L.ones(2, 3), L.ones(2))", RuntimeError,
     "The size of tensor a (3) must match the size of tensor b (2) at non-singleton dimension 1"),
    ("L.ones(2, 3).clamp(L.ones(4))", RuntimeError,
     "The size of tensor a (3) must match the size of tensor b (4) at non-singleton dimension 1"),
    ("L.ones(2, 3).round(decimals=1).long().round(decimals=1)", NotImplementedError,
     "\"round_cpu\" not implemented for 'Long'"),
    ("L.take_along_dim(L.ones(3, 4), L.tensor(1), dim=1)", RuntimeError,
     "input and indices should have the same number of dimensions"),
    # convolutions with empty weights (a model whose width rounds to 0 channels)
    ("L.nn.functional.conv2d(L.ones(1, 16, 4, 4), L.ones(0, 16, 1, 1))", RuntimeError,
     "Given groups=1, expected weight to be at least 1 at dimension 0, but got weight of size [0, 16, 1, 1] instead"),
    ("L.nn.functional.conv2d(L.ones(1, 4, 4, 4), L.ones(3, 2, 1, 1), groups=2)", RuntimeError,
     "Given groups=2, expected weight to be divisible by 2 at dimension 0, but got weight of size [[3, 2, 1, 1]] "
     "instead"),
    ("L.nn.functional.conv1d(L.ones(1, 2, 4), L.ones(3, 2, 0))", RuntimeError,
     "kernel size should be greater than zero, but got kernel_height: 1 kernel_width: 0"),
    ("L.nn.functional.conv3d(L.ones(1, 2, 4, 4, 4), L.ones(3, 2, 1, 0, 1))", RuntimeError,
     "kernel size should be greater than zero, but got: 1 x 0 x 1 (TxHxW)"),
    ("L.nn.functional.conv_transpose1d(L.ones(1, 16, 4), L.ones(16, 0, 1))", RuntimeError,
     "non-empty 2D or 4D weight tensor expected, but got: [16, 0, 1, 1]"),
    ("L.nn.functional.conv_transpose3d(L.ones(1, 16, 2, 2, 2), L.ones(16, 0, 1, 1, 1))", RuntimeError,
     "non-empty 5D (n_output_plane x n_input_plane x kernel_depth x kernel_height x kernel_width) tensor expected "
     "for weight, but got: [16, 0, 1, 1, 1]"),
    ("L.nn.functional.conv_transpose2d(L.ones(1, 0, 4, 4), L.ones(0, 2, 1, 1))", RuntimeError,
     "Given groups=1, expected weight to be at least 1 at dimension 0, but got weight of size [0, 2, 1, 1] instead"),
]

IDS = [c[0] for c in CASES]
NUMPY_TEXT = re.compile(r"numpy|ndarray|axis \d|operands could not be broadcast|ufunc|np\.")


def test_at_least_forty_cases() -> None:
    assert len(CASES) >= 40


@pytest.mark.parametrize("expr,exc,words", CASES, ids=IDS)
def test_raises_like_pytorch(expr: str, exc: type, words: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(exc) as info:
            eval(expr, {"L": ndgrad, "np": np})  # noqa: S307 - literal table above
    msg = str(info.value)
    assert words in msg, f"{msg!r} lacks {words!r}"
    if "numpy" not in expr and "ndarray" not in words:
        assert not NUMPY_TEXT.search(msg), f"NumPy text leaked: {msg!r}"


def _torch_error(expr: str, torch: Any) -> list:
    """[names of the exception's classes (its MRO), message] for what the expression raises in
    PyTorch."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(Exception) as info:
            eval(expr, {"L": torch, "np": np})  # noqa: S307 - literal table above
    return [[c.__name__ for c in type(info.value).__mro__], str(info.value)]


@pytest.mark.parametrize("expr,exc,words", CASES, ids=IDS)
def test_matches_torch_live(expr: str, exc: type, words: str, torch_ref: Any) -> None:
    """The table is PyTorch's: its type and words (live, or as recorded from PyTorch)."""
    classes, msg = torch_ref("error", lambda torch: _torch_error(expr, torch))
    assert exc.__name__ in classes, f"torch raised {classes[0]}, table says {exc.__name__}"
    want = words.replace("linalg.matrix_norm: ", "")
    assert want in msg.replace("dot : ", "dot: "), f"{msg!r} lacks {words!r}"


def test_linalg_error_is_catchable_like_torch() -> None:
    with pytest.raises(ndgrad.linalg.LinAlgError, match="singular"):
        ndgrad.linalg.inv(ndgrad.zeros(2, 2))
    assert issubclass(ndgrad.linalg.LinAlgError, RuntimeError)


def test_no_numpy_warnings_reach_the_user() -> None:
    """PyTorch is silent on overflow, 0/0, log(0) and empty reductions; so is ndgrad."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x = ndgrad.tensor([0.0, -1.0, 1e38])
        for y in (x.log(), x.sqrt(), x / 0, x * 1e10, x.exp() * 1e38, ndgrad.tensor([0.0]) / 0,
                  ndgrad.zeros(0).mean(), ndgrad.zeros(2, 0).mean(1), ndgrad.zeros(0).var(), ndgrad.zeros(0).std(),
                  ndgrad.tensor([1e30]).float().pow(3), ndgrad.zeros(3).acos() * 0 + ndgrad.tensor([2.0]).acos(),
                  ndgrad.tensor([1.0]).atanh(), ndgrad.zeros(0).sum(), ndgrad.zeros(0, 3).amax(1),
                  ndgrad.erfinv(ndgrad.tensor([1.0, -1.0, 2.0])), ndgrad.tensor([-1.0]).log1p() * 0,
                  ndgrad.tensor([0.0, 1.0]).logit(), ndgrad.tensor([1e20]).sigmoid(), ndgrad.tensor([-1e4]).sigmoid()):
            assert isinstance(y, ndgrad.Tensor)
        assert ndgrad.zeros(0).mean().isnan().item()
