//! The CPU backend's sum and product of two f32 tensors of one shape (patched burn-flex: split across
//! threads above a size, written into whichever operand is not shared, else into fresh memory;
//! vendor/README.md) against the definition, with shared operands left untouched, sizes on both sides
//! of the split, a broadcast (burn-flex's generic path) and gradients through autodiff (a residual
//! sum; the kinetic energy's square, a product of a tensor with itself).

use burn::prelude::*;
use burn::tensor::TensorData;

const LARGE: usize = 3 * 32768 + 17;

fn values(n: usize, seed: usize) -> Vec<f32> {
    let mut v: Vec<f32> = (0..n).map(|i| ((i * 7919 + seed * 104_729) % 1009) as f32 / 97.0 - 5.0).collect();
    v[n / 2] = f32::NAN;
    v[n / 3] = f32::INFINITY;
    v
}

fn tensor(v: &[f32]) -> Tensor<1> {
    Tensor::from_data(TensorData::new(v.to_vec(), [v.len()]), &Device::flex())
}

fn data(t: Tensor<1>) -> Vec<f32> {
    t.into_data().try_to_vec::<f32>().unwrap()
}

fn same(got: &[f32], want: &[f32], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}");
    for (i, (a, b)) in got.iter().zip(want).enumerate() {
        assert!(a == b || (a.is_nan() && b.is_nan()), "{what} at {i}: {a} vs {b}");
    }
}

type Op = fn(Tensor<1>, Tensor<1>) -> Tensor<1>;

#[test]
fn sum_and_product_with_either_operand_shared_or_neither() {
    let ops: [(&str, Op, fn(f32, f32) -> f32); 2] = [("sum", |a, b| a + b, |x, y| x + y), ("product", |a, b| a * b, |x, y| x * y)];
    for (name, op, definition) in ops {
        for n in [1000, LARGE] {
            let (a, b) = (values(n, 1), values(n, 2));
            let want: Vec<f32> = a.iter().zip(&b).map(|(&x, &y)| definition(x, y)).collect();
            same(&data(op(tensor(&a), tensor(&b))), &want, &format!("unshared {name} of {n}"));
            let kept = tensor(&a);
            same(&data(op(kept.clone(), tensor(&b))), &want, &format!("{name} of {n}, left shared"));
            same(&data(kept), &a, &format!("left operand of {n} after the {name}"));
            let kept = tensor(&b);
            same(&data(op(tensor(&a), kept.clone())), &want, &format!("{name} of {n}, right shared"));
            same(&data(kept), &b, &format!("right operand of {n} after the {name}"));
            let (ka, kb) = (tensor(&a), tensor(&b));
            same(&data(op(ka.clone(), kb.clone())), &want, &format!("{name} of {n}, both shared"));
            same(&data(ka), &a, &format!("left operand of {n} after a {name} into fresh memory"));
            same(&data(kb), &b, &format!("right operand of {n} after a {name} into fresh memory"));
        }
    }
}

#[test]
fn square_and_its_gradient() {
    let a = values(LARGE, 5);
    let g: Vec<f32> = (0..LARGE).map(|i| 0.5 + (i % 5) as f32).collect();
    let at = tensor(&a).autodiff().require_grad();
    let square = at.clone() * at.clone();
    let want: Vec<f32> = a.iter().map(|x| x * x).collect();
    same(&square.clone().inner().into_data().try_to_vec::<f32>().unwrap(), &want, "square");
    let grads = (square * tensor(&g).autodiff()).sum().backward();
    // d(x·x) = g·x + g·x, each term computed alone: exactly 2·(g·x).
    let want: Vec<f32> = a.iter().zip(&g).map(|(x, g)| 2.0 * (g * x)).collect();
    same(&at.grad(&grads).unwrap().into_data().try_to_vec::<f32>().unwrap(), &want, "gradient of the square");
}

#[test]
fn broadcast_sum_and_gradient() {
    let a = values(LARGE, 3);
    let bias = Tensor::<1>::from_data(TensorData::new(vec![0.5f32], [1]), &Device::flex());
    let want: Vec<f32> = a.iter().map(|x| x + 0.5).collect();
    same(&data(tensor(&a) + bias), &want, "broadcast sum");

    let b = values(LARGE, 4);
    let g: Vec<f32> = (0..LARGE).map(|i| 1.0 + (i % 7) as f32).collect();
    let (at, bt) = (tensor(&a).autodiff().require_grad(), tensor(&b).autodiff().require_grad());
    let grads = ((at.clone() + bt.clone()) * tensor(&g).autodiff()).sum().backward();
    same(&at.grad(&grads).unwrap().into_data().try_to_vec::<f32>().unwrap(), &g, "gradient of the left operand");
    same(&bt.grad(&grads).unwrap().into_data().try_to_vec::<f32>().unwrap(), &g, "gradient of the right operand");
}

#[test]
fn sum_and_product_with_a_scalar_or_a_broadcast_value() {
    for n in [1000, LARGE] {
        let a = values(n, 6);
        for (name, want) in [("sum", a.iter().map(|x| x + 0.75).collect::<Vec<f32>>()), ("product", a.iter().map(|x| x * 0.75).collect())] {
            let scalar = |t: Tensor<1>| if name == "sum" { t + 0.75 } else { t * 0.75 };
            same(&data(scalar(tensor(&a))), &want, &format!("{name} of {n} and a scalar"));
            let kept = tensor(&a);
            same(&data(scalar(kept.clone())), &want, &format!("{name} of {n} (shared) and a scalar"));
            same(&data(kept), &a, &format!("operand of {n} after a {name} with a scalar"));
            // A single value expanded to the tensor's shape (every stride 0), on either side.
            let value = || Tensor::<1>::from_data(TensorData::new(vec![0.75f32], [1]), &Device::flex()).expand([n]);
            let op = |x: Tensor<1>, y: Tensor<1>| if name == "sum" { x + y } else { x * y };
            same(&data(op(tensor(&a), value())), &want, &format!("{name} of {n} and a broadcast value"));
            let kept = tensor(&a);
            same(&data(op(value(), kept.clone())), &want, &format!("{name} of a broadcast value and {n} (shared)"));
            same(&data(kept), &a, &format!("operand of {n} after a {name} with a broadcast value"));
        }
    }
}

#[test]
fn gradients_of_a_mean_and_a_sum() {
    // The gradient of a mean or sum is one value broadcast (patched burn-autodiff): alone, added to
    // another, and through the kinetic energy's product with a detached copy.
    let n = LARGE;
    let a: Vec<f32> = values(n, 7).into_iter().map(|x| if x.is_finite() { x } else { 1.5 }).collect();
    let inv = (1.0f64 / n as f64) as f32;
    let at = tensor(&a).autodiff().require_grad();
    let grads = at.clone().mean().backward();
    same(&at.grad(&grads).unwrap().into_data().try_to_vec::<f32>().unwrap(), &vec![inv; n], "gradient of a mean");
    let grads = (at.clone().mean() + at.clone().sum() * 2.0).backward();
    same(&at.grad(&grads).unwrap().into_data().try_to_vec::<f32>().unwrap(), &vec![inv + 2.0; n], "gradient of a mean plus a sum");
    let grads = (at.clone() * at.clone().detach()).mean().backward();
    let want: Vec<f32> = a.iter().map(|x| x * inv).collect();
    same(&at.grad(&grads).unwrap().into_data().try_to_vec::<f32>().unwrap(), &want, "gradient of mean(x·x̄)");
}

#[test]
fn sums_and_means_of_large_tensors_are_accurate_and_repeatable() {
    // Split across threads from 256 Ki elements (patched burn-flex), the chunks' sums added in order.
    for n in [300_000usize, (1 << 21) + 5, 5 << 20] {
        let v: Vec<f32> = (0..n).map(|i| ((i * 7919) % 1013) as f32 / 101.0 - 4.0).collect();
        let exact: f64 = v.iter().map(|&x| x as f64).sum();
        let first = data(tensor(&v).sum())[0];
        assert!((first as f64 - exact).abs() <= 1e-5 * v.iter().map(|&x| x.abs() as f64).sum::<f64>(), "sum of {n}: {first} vs {exact}");
        for _ in 0..4 {
            assert_eq!(data(tensor(&v).sum())[0].to_bits(), first.to_bits(), "sum of {n} changed between runs");
        }
        let mean = data(tensor(&v).mean())[0];
        assert!((mean as f64 - exact / n as f64).abs() <= 1e-5, "mean of {n}: {mean}");
    }
}
