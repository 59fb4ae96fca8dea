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
