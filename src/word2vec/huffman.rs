//! The Huffman tree of hierarchical softmax: frequent words get short codes, so the expected cost of
//! an update is the entropy of the unigram distribution, not log2(V).

/// For each word: the branch bits from the root (`codes`) and the inner nodes passed (`points`, each
/// an index into the V−1 rows of the node matrix).
#[derive(Clone, Debug, PartialEq)]
pub struct Huffman {
    pub codes: Vec<Vec<u8>>,
    pub points: Vec<Vec<u32>>,
}

impl Huffman {
    /// Builds the tree from counts sorted in descending order, merging the two least frequent nodes
    /// each step with two pointers (the classic O(V) construction word2vec uses).
    pub fn new(counts: &[u64]) -> Huffman {
        let v = counts.len();
        if v < 2 {
            return Huffman {
                codes: vec![vec![0]; v],
                points: vec![vec![0]; v],
            };
        }
        // Nodes 0..v are leaves (counts descending); v..2v-1 are inner nodes in creation order.
        let mut count: Vec<u64> = counts.to_vec();
        count.resize(2 * v - 1, u64::MAX);
        let mut parent = vec![0usize; 2 * v - 1];
        let mut bit = vec![0u8; 2 * v - 1];
        let mut leaf = v as isize - 1; // next unused leaf, moving toward the frequent end
        let mut inner = v; // next unused inner node
        for made in v..2 * v - 1 {
            let mut pick = || {
                if leaf >= 0 && (inner >= made || count[leaf as usize] < count[inner]) {
                    leaf -= 1;
                    (leaf + 1) as usize
                } else {
                    inner += 1;
                    inner - 1
                }
            };
            let a = pick();
            let b = pick();
            count[made] = count[a].saturating_add(count[b]);
            parent[a] = made;
            parent[b] = made;
            bit[b] = 1;
        }
        let root = 2 * v - 2;
        let mut codes = Vec::with_capacity(v);
        let mut points = Vec::with_capacity(v);
        for w in 0..v {
            let (mut code, mut point) = (Vec::new(), Vec::new());
            let mut n = w;
            while n != root {
                code.push(bit[n]);
                n = parent[n];
                point.push((n - v) as u32);
            }
            code.reverse();
            point.reverse();
            codes.push(code);
            points.push(point);
        }
        Huffman { codes, points }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn huffman_codes_on_a_known_vocabulary() {
        let h = Huffman::new(&[5, 3, 2, 1]);
        assert_eq!(
            h.codes,
            vec![vec![0], vec![1, 1], vec![1, 0, 1], vec![1, 0, 0]]
        );
        assert_eq!(
            h.points,
            vec![vec![2], vec![2, 1], vec![2, 1, 0], vec![2, 1, 0]]
        );
        // A larger one: prefix-free, Kraft sum 1, and optimal (cost = sum of inner node weights).
        let counts: Vec<u64> = (1..=200u64).rev().map(|k| k * k + 7).collect();
        let h = Huffman::new(&counts);
        let kraft: f64 = h.codes.iter().map(|c| 0.5f64.powi(c.len() as i32)).sum();
        assert!((kraft - 1.0).abs() < 1e-12);
        for (i, a) in h.codes.iter().enumerate() {
            for b in &h.codes[i + 1..] {
                assert!(!b.starts_with(a) && !a.starts_with(b));
            }
        }
        let cost: u64 = h
            .codes
            .iter()
            .zip(&counts)
            .map(|(c, n)| c.len() as u64 * n)
            .sum();
        let mut heap: std::collections::BinaryHeap<std::cmp::Reverse<u64>> =
            counts.iter().map(|&c| std::cmp::Reverse(c)).collect();
        let mut optimal = 0;
        while heap.len() > 1 {
            let a = heap.pop().unwrap().0;
            let b = heap.pop().unwrap().0;
            optimal += a + b;
            heap.push(std::cmp::Reverse(a + b));
        }
        assert_eq!(cost, optimal);
        assert!(h.points.iter().flatten().all(|&p| p < 199));
    }
}
