//! Redis's `pqsort`: the NetBSD `qsort` (Bentley and McIlroy's "Engineering
//! a Sort Function") with partial sorting, which only sorts the parts that
//! cover the index range `lo..=hi`. Redis uses it when a reply needs only
//! the first elements of a sort (GEOSEARCH ... COUNT); the sort is not
//! stable, so equal elements end up in the order this exact algorithm
//! leaves them, which a port must reproduce step for step. As in Redis
//! 7.0.15, a partition that swapped nothing does not switch to insertion
//! sort (the original's shortcut, which Redis dropped as it could make a
//! sort quadratic).

use std::cmp::Ordering;

/// Sorts `v` enough that `v[lo..=hi]` holds what a full sort would put
/// there, with Redis's order among equal elements.
pub fn pqsort<T>(v: &mut [T], cmp: &mut impl FnMut(&T, &T) -> Ordering, lo: usize, hi: usize) {
    let n = v.len();
    run(v, 0, n, cmp, lo, hi);
}

fn insertion<T>(v: &mut [T], a: usize, n: usize, cmp: &mut impl FnMut(&T, &T) -> Ordering) {
    for pm in a + 1..a + n {
        let mut pl = pm;
        while pl > a && cmp(&v[pl - 1], &v[pl]) == Ordering::Greater {
            v.swap(pl, pl - 1);
            pl -= 1;
        }
    }
}

fn med3<T>(v: &[T], a: usize, b: usize, c: usize, cmp: &mut impl FnMut(&T, &T) -> Ordering) -> usize {
    use Ordering::*;
    if cmp(&v[a], &v[b]) == Less {
        if cmp(&v[b], &v[c]) == Less {
            b
        } else if cmp(&v[a], &v[c]) == Less {
            c
        } else {
            a
        }
    } else if cmp(&v[b], &v[c]) == Greater {
        b
    } else if cmp(&v[a], &v[c]) == Less {
        a
    } else {
        c
    }
}

/// Swaps `n` elements from `a` with `n` elements from `b`.
fn vecswap<T>(v: &mut [T], a: usize, b: usize, n: usize) {
    for i in 0..n {
        v.swap(a + i, b + i);
    }
}

/// Whether the part `s..s + len` lies wholly outside `lo..=hi`.
fn outside(s: usize, len: usize, lo: usize, hi: usize) -> bool {
    (lo < s && hi < s) || (lo >= s + len && hi >= s + len)
}

fn run<T>(v: &mut [T], mut a: usize, mut n: usize, cmp: &mut impl FnMut(&T, &T) -> Ordering, lo: usize, hi: usize) {
    use Ordering::*;
    loop {
        if n < 7 {
            insertion(v, a, n, cmp);
            return;
        }
        let mut pm = a + n / 2;
        if n > 7 {
            let mut pl = a;
            let mut pn = a + n - 1;
            if n > 40 {
                let d = n / 8;
                pl = med3(v, pl, pl + d, pl + 2 * d, cmp);
                pm = med3(v, pm - d, pm, pm + d, cmp);
                pn = med3(v, pn - 2 * d, pn - d, pn, cmp);
            }
            pm = med3(v, pl, pm, pn, cmp);
        }
        v.swap(a, pm);
        let (mut pa, mut pb) = (a + 1, a + 1);
        let (mut pc, mut pd) = (a + n - 1, a + n - 1);
        loop {
            while pb <= pc {
                let r = cmp(&v[pb], &v[a]);
                if r == Greater {
                    break;
                }
                if r == Equal {
                    v.swap(pa, pb);
                    pa += 1;
                }
                pb += 1;
            }
            while pb <= pc {
                let r = cmp(&v[pc], &v[a]);
                if r == Less {
                    break;
                }
                if r == Equal {
                    v.swap(pc, pd);
                    pd -= 1;
                }
                pc -= 1;
            }
            if pb > pc {
                break;
            }
            v.swap(pb, pc);
            pb += 1;
            pc -= 1;
        }
        let pn = a + n;
        let r = (pa - a).min(pb - pa);
        vecswap(v, a, pb - r, r);
        let r = (pd - pc).min(pn - pd - 1);
        vecswap(v, pb, pn - r, r);
        let r = pb - pa;
        if r > 1 && !outside(a, r, lo, hi) {
            run(v, a, r, cmp, lo, hi);
        }
        let r = pd - pc;
        if r > 1 {
            a = pn - r;
            n = r;
            if !outside(a, r, lo, hi) {
                continue;
            }
        }
        return;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_range_asked_for_is_sorted() {
        let mut seed = 7u64;
        for len in [1usize, 5, 7, 8, 40, 41, 100, 500] {
            let mut v: Vec<u32> = (0..len)
                .map(|_| {
                    seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    (seed >> 33) as u32 % 50
                })
                .collect();
            let mut sorted = v.clone();
            sorted.sort();
            let hi = (len / 3).max(1) - 1;
            pqsort(&mut v, &mut |a, b| a.cmp(b), 0, hi);
            assert_eq!(v[..=hi], sorted[..=hi], "len {len}");
        }
    }
}
