//! Fixed-base scalar multiplication `k·G` on NIST P-256 for the log's signatures, in
//! constant time, several times faster than the generic arithmetic of the `p256` crate.
//!
//! ECDSA signing (FIPS 186-5 §6.4.1) spends most of its time computing `R = k·G` for the
//! per-signature nonce `k`. The generator is fixed, so a comb table of its multiples is
//! built once per process: window `i` holds `j·16^i·G` for `j` in 1..=15, affine. `k·G`
//! is then 64 mixed additions (one per 4-bit digit of `k`, no doublings), each operand
//! chosen from its window by a full constant-time scan, with the complete addition
//! formulas of Renes, Costello and Batina (eprint 2015/1060, Algorithm 5 for `a = -3`),
//! so that neither the digits of `k` nor the identity (a zero digit) change the sequence
//! of operations. Field arithmetic is fiat-crypto's formally verified Montgomery code
//! (`fiat_crypto::p256_64`), which is what makes the difference.
//!
//! Only the affine x-coordinate is returned: that is all ECDSA needs (`r = x(R) mod n`).

use std::sync::LazyLock;

use fiat_crypto::p256_64::{
    fiat_p256_add, fiat_p256_from_bytes, fiat_p256_from_montgomery,
    fiat_p256_montgomery_domain_field_element as Montgomery, fiat_p256_mul,
    fiat_p256_non_montgomery_domain_field_element as Plain, fiat_p256_selectznz, fiat_p256_set_one,
    fiat_p256_square, fiat_p256_sub, fiat_p256_to_bytes, fiat_p256_to_montgomery,
};
use p256::elliptic_curve::group::{Curve, Group};
use p256::elliptic_curve::point::AffineCoordinates;
use p256::elliptic_curve::subtle::{Choice, ConstantTimeEq};
use p256::elliptic_curve::{NonZeroScalar, PrimeField};
use p256::{AffinePoint, NistP256, ProjectivePoint};

/// The curve's `b` coefficient (SEC 2 §2.4.2), big-endian.
const B: [u8; 32] = [
    0x5a, 0xc6, 0x35, 0xd8, 0xaa, 0x3a, 0x93, 0xe7, 0xb3, 0xeb, 0xbd, 0x55, 0x76, 0x98, 0x86, 0xbc,
    0x65, 0x1d, 0x06, 0xb0, 0xcc, 0x53, 0xb0, 0xf6, 0x3b, 0xce, 0x3c, 0x3e, 0x27, 0xd2, 0x60, 0x4b,
];

/// `p - 2`, the exponent of a Fermat inversion, as 64-bit limbs, most significant first.
const P_MINUS_2: [u64; 4] = [
    0xffff_ffff_0000_0001,
    0x0000_0000_0000_0000,
    0x0000_0000_ffff_ffff,
    0xffff_ffff_ffff_fffd,
];

/// Digits of the scalar, and windows of the table.
const WINDOWS: usize = 64;

/// A field element mod p, in the Montgomery domain.
#[derive(Clone, Copy)]
struct Fe(Montgomery);

impl Fe {
    const ZERO: Fe = Fe(Montgomery([0; 4]));

    fn one() -> Fe {
        let mut out = Montgomery([0; 4]);
        fiat_p256_set_one(&mut out);
        Fe(out)
    }

    /// From big-endian bytes of an integer below p.
    fn from_be_bytes(bytes: &[u8; 32]) -> Fe {
        let mut le = *bytes;
        le.reverse();
        let mut limbs = [0; 4];
        fiat_p256_from_bytes(&mut limbs, &le);
        let mut out = Montgomery([0; 4]);
        fiat_p256_to_montgomery(&mut out, &Plain(limbs));
        Fe(out)
    }

    fn to_be_bytes(self) -> [u8; 32] {
        let mut plain = Plain([0; 4]);
        fiat_p256_from_montgomery(&mut plain, &self.0);
        let mut out = [0; 32];
        fiat_p256_to_bytes(&mut out, &plain.0);
        out.reverse();
        out
    }

    fn mul(self, rhs: Fe) -> Fe {
        let mut out = Montgomery([0; 4]);
        fiat_p256_mul(&mut out, &self.0, &rhs.0);
        Fe(out)
    }

    fn square(self) -> Fe {
        let mut out = Montgomery([0; 4]);
        fiat_p256_square(&mut out, &self.0);
        Fe(out)
    }

    fn add(self, rhs: Fe) -> Fe {
        let mut out = Montgomery([0; 4]);
        fiat_p256_add(&mut out, &self.0, &rhs.0);
        Fe(out)
    }

    fn sub(self, rhs: Fe) -> Fe {
        let mut out = Montgomery([0; 4]);
        fiat_p256_sub(&mut out, &self.0, &rhs.0);
        Fe(out)
    }

    fn double(self) -> Fe {
        self.add(self)
    }

    fn triple(self) -> Fe {
        self.double().add(self)
    }

    /// `b` if `choice` is set, else `a`, in constant time.
    fn select(a: Fe, b: Fe, choice: Choice) -> Fe {
        let mut out = [0; 4];
        fiat_p256_selectznz(&mut out, choice.unwrap_u8(), &a.0.0, &b.0.0);
        Fe(Montgomery(out))
    }

    /// The inverse (zero for zero), by Fermat: `self^(p-2)`, a 4-bit fixed window over
    /// the public exponent, so its time does not depend on `self`.
    fn invert(self) -> Fe {
        let mut powers = [Fe::one(); 16];
        let mut acc = Fe::one();
        for power in powers.iter_mut().skip(1) {
            acc = acc.mul(self);
            *power = acc;
        }
        let mut out = Fe::one();
        for limb in P_MINUS_2 {
            for shift in (0..16).rev() {
                out = out.square().square().square().square();
                let nibble = (limb >> (shift * 4)) & 0xf;
                let power = usize::try_from(nibble)
                    .ok()
                    .and_then(|i| powers.get(i))
                    .copied()
                    .unwrap_or(Fe::one());
                out = out.mul(power);
            }
        }
        out
    }
}

/// An affine point other than the identity.
#[derive(Clone, Copy)]
struct Affine {
    x: Fe,
    y: Fe,
}

impl Affine {
    fn from_point(p: &AffinePoint) -> Affine {
        Affine {
            x: Fe::from_be_bytes(&p.x().into()),
            y: Fe::from_be_bytes(&p.y().into()),
        }
    }

    fn select(a: &Affine, b: &Affine, choice: Choice) -> Affine {
        Affine {
            x: Fe::select(a.x, b.x, choice),
            y: Fe::select(a.y, b.y, choice),
        }
    }
}

/// A point in homogeneous projective coordinates (`x = X/Z`, `y = Y/Z`).
#[derive(Clone, Copy)]
struct Projective {
    x: Fe,
    y: Fe,
    z: Fe,
}

impl Projective {
    fn identity() -> Projective {
        Projective {
            x: Fe::ZERO,
            y: Fe::one(),
            z: Fe::ZERO,
        }
    }

    /// `self + rhs`: the complete mixed addition of Renes–Costello–Batina (Algorithm
    /// 5, `a = -3`), valid for any `self` (the identity included) and any `rhs`.
    fn add_mixed(&self, rhs: &Affine, b: Fe) -> Projective {
        let xx = self.x.mul(rhs.x);
        let yy = self.y.mul(rhs.y);
        let xy_pairs = self.x.add(self.y).mul(rhs.x.add(rhs.y)).sub(xx.add(yy));
        let yz_pairs = rhs.y.mul(self.z).add(self.y);
        let xz_pairs = rhs.x.mul(self.z).add(self.x);
        let bz3_part = xz_pairs.sub(b.mul(self.z)).triple();
        let yy_m_bzz3 = yy.sub(bz3_part);
        let yy_p_bzz3 = yy.add(bz3_part);
        let z3 = self.z.triple();
        let bxz3_part = b.mul(xz_pairs).sub(z3.add(xx)).triple();
        let xx3_m_zz3 = xx.triple().sub(z3);
        Projective {
            x: yy_p_bzz3.mul(xy_pairs).sub(yz_pairs.mul(bxz3_part)),
            y: yy_p_bzz3.mul(yy_m_bzz3).add(xx3_m_zz3.mul(bxz3_part)),
            z: yy_m_bzz3.mul(yz_pairs).add(xy_pairs.mul(xx3_m_zz3)),
        }
    }

    fn select(a: &Projective, b: &Projective, choice: Choice) -> Projective {
        Projective {
            x: Fe::select(a.x, b.x, choice),
            y: Fe::select(a.y, b.y, choice),
            z: Fe::select(a.z, b.z, choice),
        }
    }
}

/// The comb: window `i` holds `j·16^i·G` for `j` in 1..=15, and `b`.
struct Table {
    windows: Vec<[Affine; 15]>,
    b: Fe,
}

static TABLE: LazyLock<Table> = LazyLock::new(|| {
    let mut windows = Vec::with_capacity(WINDOWS);
    let mut base = ProjectivePoint::generator();
    for _ in 0..WINDOWS {
        let mut multiples = [ProjectivePoint::IDENTITY; 15];
        let mut acc = base;
        for m in multiples.iter_mut() {
            *m = acc;
            acc += base;
        }
        let mut affine = [AffinePoint::IDENTITY; 15];
        ProjectivePoint::batch_normalize(&multiples, &mut affine);
        windows.push(affine.map(|p| Affine::from_point(&p)));
        base = acc;
    }
    Table {
        windows,
        b: Fe::from_be_bytes(&B),
    }
});

/// The big-endian affine x-coordinate of `k·G`, in constant time.
pub(super) fn base_mul_x(k: &NonZeroScalar<NistP256>) -> [u8; 32] {
    let table = &*TABLE;
    let repr = k.to_repr();
    // Little-endian 4-bit digits, window 0 first.
    let digits = repr.iter().rev().flat_map(|byte| [byte & 0xf, byte >> 4]);
    let mut acc = Projective::identity();
    for (digit, window) in digits.zip(&table.windows) {
        let mut chosen = window[0];
        for (entry, j) in window.iter().zip(1u8..) {
            chosen = Affine::select(&chosen, entry, digit.ct_eq(&j));
        }
        let sum = acc.add_mixed(&chosen, table.b);
        acc = Projective::select(&sum, &acc, digit.ct_eq(&0));
    }
    // k is not zero mod the prime order n, so k·G is not the identity and Z ≠ 0.
    acc.x.mul(acc.z.invert()).to_be_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::Scalar;

    fn check(k: Scalar) {
        let nz = NonZeroScalar::new(k).unwrap();
        let want: [u8; 32] = (ProjectivePoint::generator() * k).to_affine().x().into();
        assert_eq!(base_mul_x(&nz), want);
    }

    /// Digits at the edges (zero windows, all-ones windows, the largest scalar) and a
    /// run of pseudo-random scalars, against `p256`'s own multiplication.
    #[test]
    fn matches_p256() {
        for small in [
            1u64,
            2,
            15,
            16,
            17,
            255,
            256,
            0x1000_0000_0000_0001,
            u64::MAX,
        ] {
            check(Scalar::from(small));
            check(-Scalar::from(small));
        }
        let mut k = Scalar::from(0x1234_5678_9abc_def1u64);
        for _ in 0..64 {
            k = k.square() + Scalar::ONE;
            check(k);
        }
    }
}
