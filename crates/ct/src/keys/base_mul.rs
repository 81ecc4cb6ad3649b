//! Fixed-base scalar multiplication `k·G` on NIST P-256 for the log's signatures, in
//! constant time, several times faster than the generic arithmetic of the `p256` crate.
//!
//! ECDSA signing (FIPS 186-5 §6.4.1) spends most of its time computing `R = k·G` for the
//! per-signature nonce `k`. The generator is fixed, so a comb table of its multiples is
//! built once per process: window `i` holds `j·2^(6i)·G` for `j` in 1..=32, affine. `k`
//! is recoded into 43 signed 6-bit digits (Booth recoding, as in BoringSSL's
//! `ec_GFp_nistp_recode_scalar_bits`), so `k·G` is 43 mixed additions and no doublings.
//! Each operand is read from its window by a full constant-time scan and negated or not
//! by a constant-time select, and the additions use the complete formulas of Renes,
//! Costello and Batina (eprint 2015/1060, Algorithm 5 for `a = -3`), so neither the
//! digits of `k` nor a zero digit change the sequence of operations. Field arithmetic is
//! fiat-crypto's formally verified Montgomery code (`fiat_crypto::p256_64`).
//!
//! Only the affine x-coordinate is returned: that is all ECDSA needs (`r = x(R) mod n`).

use std::sync::LazyLock;

use fiat_crypto::p256_64::{
    fiat_p256_add, fiat_p256_from_bytes, fiat_p256_from_montgomery,
    fiat_p256_montgomery_domain_field_element as Montgomery, fiat_p256_mul,
    fiat_p256_non_montgomery_domain_field_element as Plain, fiat_p256_opp, fiat_p256_selectznz,
    fiat_p256_set_one, fiat_p256_square, fiat_p256_sub, fiat_p256_to_bytes,
    fiat_p256_to_montgomery,
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

/// Bits per signed digit of the scalar.
const WIDTH: usize = 6;

/// Entries per window: the digit magnitudes 1..=2^(WIDTH-1).
const ENTRIES: usize = 1 << (WIDTH - 1);

/// Windows: the top one's sign bit (bit `WIDTH·WINDOWS - 1`) must lie above the
/// scalar's 256 bits, so that its digit is not negative.
const WINDOWS: usize = 257_usize.div_ceil(WIDTH);

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

    fn neg(self) -> Fe {
        let mut out = Montgomery([0; 4]);
        fiat_p256_opp(&mut out, &self.0);
        Fe(out)
    }

    /// `self^(2^n)`.
    fn square_n(self, n: usize) -> Fe {
        (0..n).fold(self, |x, _| x.square())
    }

    /// The inverse (zero for zero), by Fermat: `self^(p-2)` with a fixed addition chain
    /// (255 squarings, 12 multiplications), so its time does not depend on `self`.
    /// `p - 2` is, in 32-bit words from the top: `ffffffff 00000001 00000000 00000000
    /// 00000000 ffffffff ffffffff fffffffd`.
    fn invert(self) -> Fe {
        // x_n = self^(2^n - 1)
        let x2 = self.square().mul(self);
        let x3 = x2.square().mul(self);
        let x6 = x3.square_n(3).mul(x3);
        let x12 = x6.square_n(6).mul(x6);
        let x15 = x12.square_n(3).mul(x3);
        let x30 = x15.square_n(15).mul(x15);
        let x32 = x30.square_n(2).mul(x2);
        let t = x32.square_n(32).mul(self);
        let t = t.square_n(96 + 32).mul(x32);
        let t = t.square_n(32).mul(x32);
        let t = t.square_n(30).mul(x30);
        t.square_n(2).mul(self)
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

    /// The entry of `window` for magnitude `digit` (1-based; all zeros for 0), reading
    /// every entry and keeping the right one with masks, in constant time.
    fn scan(window: &[Affine; ENTRIES], digit: u8) -> Affine {
        let (mut x, mut y) = ([0u64; 4], [0u64; 4]);
        for (entry, j) in window.iter().zip(1u8..) {
            let mask = 0u64.wrapping_sub(u64::from(digit.ct_eq(&j).unwrap_u8()));
            for (out, limb) in x.iter_mut().zip(entry.x.0.0) {
                *out |= limb & mask;
            }
            for (out, limb) in y.iter_mut().zip(entry.y.0.0) {
                *out |= limb & mask;
            }
        }
        Affine {
            x: Fe(Montgomery(x)),
            y: Fe(Montgomery(y)),
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

/// The comb: window `i` holds `j·2^(6i)·G` for `j` in 1..=32; and `b`.
struct Table {
    windows: Vec<[Affine; ENTRIES]>,
    b: Fe,
}

static TABLE: LazyLock<Table> = LazyLock::new(|| {
    let mut windows = Vec::with_capacity(WINDOWS);
    let mut base = ProjectivePoint::generator();
    for _ in 0..WINDOWS {
        let mut multiples = [ProjectivePoint::IDENTITY; ENTRIES];
        let mut acc = base;
        for m in multiples.iter_mut() {
            *m = acc;
            acc += base;
        }
        let mut affine = [AffinePoint::IDENTITY; ENTRIES];
        ProjectivePoint::batch_normalize(&multiples, &mut affine);
        windows.push(affine.map(|p| Affine::from_point(&p)));
        for _ in 0..WIDTH {
            base = base.double();
        }
    }
    Table {
        windows,
        b: Fe::from_be_bytes(&B),
    }
});

/// Bit `i` of the little-endian scalar `k` (zero past its end).
fn bit(k: &[u8; 32], i: usize) -> u8 {
    k.get(i / 8).map_or(0, |byte| (byte >> (i % 8)) & 1)
}

/// The signed digits of `k` (little-endian bytes): window `i` reads bits
/// `WIDTH·i - 1 ..= WIDTH·i + WIDTH - 1` and yields `(negative, magnitude)` with
/// `k = Σ ±magnitude·2^(WIDTH·i)`. Branch-free (BoringSSL's recoding).
fn booth_digits(k: &[u8; 32]) -> impl Iterator<Item = (u8, u8)> + '_ {
    (0..WINDOWS).map(move |i| {
        let mut w = 0u8;
        for t in 0..=WIDTH {
            // Bit WIDTH·i - 1 + t; the bit below bit 0 is zero.
            let b = (WIDTH * i + t).checked_sub(1).map_or(0, |at| bit(k, at));
            w |= b << t;
        }
        let sign = 0u8.wrapping_sub(w >> WIDTH);
        let d = ((1u8 << (WIDTH + 1)) - 1).wrapping_sub(w);
        let d = (d & sign) | (w & !sign);
        ((sign & 1), (d >> 1) + (d & 1))
    })
}

/// The big-endian affine x-coordinate of `k·G`, in constant time.
pub(super) fn base_mul_x(k: &NonZeroScalar<NistP256>) -> [u8; 32] {
    let table = &*TABLE;
    let mut le: [u8; 32] = k.to_repr().into();
    le.reverse();
    let mut acc = Projective::identity();
    for ((negative, magnitude), window) in booth_digits(&le).zip(&table.windows) {
        let mut point = Affine::scan(window, magnitude);
        point.y = Fe::select(point.y, point.y.neg(), Choice::from(negative));
        let sum = acc.add_mixed(&point, table.b);
        acc = Projective::select(&sum, &acc, magnitude.ct_eq(&0));
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
