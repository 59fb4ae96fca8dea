//! A decoder-only Transformer over word tokens, in the shape of candle's own model files: a config
//! struct, `new(vb)` that takes its weights from a `VarBuilder`, and `forward`.
//!
//! Two candle pitfalls shape this file: `candle_nn::LayerNorm` and `ops::softmax_last_dim` do not
//! propagate gradients to earlier layers, so attention goes through `ops::softmax`
//! (differentiable), and LayerNorm, bias additions, GELU and the output loss are this crate's own
//! fused operations with their own backward passes (`norm`, `gelu`, `loss`: each checked against
//! candle's composed form), which on the CPU are also much faster; `tests/cli/lm.rs` checks that
//! every parameter gets a non-zero gradient.

use candle_core::{DType, Device, Module, Result, Tensor, D};
use candle_nn::{linear_no_bias, Linear, VarBuilder};

/// Everything that fixes the shape of the network (saved as `config.json` in a checkpoint).
/// The model width when neither `--dim` nor pretrained vectors set it.
pub const DEFAULT_DIM: usize = 128;

crate::settings::resumable! {
    /// Everything that fixes the shape of the network (saved in a checkpoint's `config.json`).
    #[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    pub struct Config / ConfigOverrides {
        /// Tokens, `<unk>` and `<eos>` included.
        pub vocab_size: usize,
        /// Width of the residual stream.
        pub dim: usize,
        /// Transformer blocks.
        pub layers: usize,
        /// Attention heads per block.
        pub heads: usize,
        /// Longest sequence the learned positions cover.
        pub context: usize,
        /// MLP hidden width as a multiple of `dim`.
        pub mlp_ratio: usize,
        /// Output projection shares the token embedding (the default) instead of its own matrix.
        pub tied: bool,
        /// Width of the token-embedding table when it differs from `dim`: pretrained vectors of
        /// another size keep their size and a learned linear map (`--project`) brings them to `dim`.
        pub embed_dim: Option<usize>,
    }
}

/// The network's shape as a user gives it, before the vocabulary and the vectors are known.
#[derive(Clone, Debug, PartialEq)]
pub struct Shape {
    /// Width; `None`: the pretrained vectors' dimension, else [`DEFAULT_DIM`].
    pub dim: Option<usize>,
    /// Transformer blocks.
    pub layers: usize,
    /// Attention heads per block.
    pub heads: usize,
    /// Tokens per training window (and learned positions).
    pub context: usize,
    /// MLP hidden width as a multiple of the width.
    pub mlp_ratio: usize,
    /// The output layer shares the token embedding.
    pub tied: bool,
    /// Vectors of another width keep it, through a learned linear map to the model's width.
    pub project: bool,
}

impl Default for Shape {
    fn default() -> Self {
        Shape {
            dim: None,
            layers: 2,
            heads: 4,
            context: 64,
            mlp_ratio: 4,
            tied: true,
            project: false,
        }
    }
}

impl Shape {
    /// The model's config for a vocabulary and, if pretrained, the vectors' dimension: the width
    /// follows the vectors unless `dim` is given (or `project` maps the vectors to another).
    pub fn config(&self, vocab_size: usize, vector_dim: Option<usize>) -> Config {
        let dim = match (self.dim, vector_dim) {
            (Some(d), _) => d,
            (None, Some(v)) if !self.project => v,
            _ => DEFAULT_DIM,
        };
        let embed_dim = match vector_dim {
            Some(v) if self.project && v != dim => Some(v),
            _ => None,
        };
        Config {
            vocab_size,
            dim,
            layers: self.layers,
            heads: self.heads,
            context: self.context,
            mlp_ratio: self.mlp_ratio,
            tied: self.tied,
            embed_dim,
        }
    }
}

/// Sane limits on the model's shape: far above anything this small LM is for, low enough that a
/// lying `config.json` or a mistyped flag is an error, never an allocation of terabytes.
pub const MAX_WIDTH: usize = 1 << 16;
/// Longest context.
pub const MAX_CONTEXT: usize = 1 << 16;
/// Most layers.
pub const MAX_LAYERS: usize = 1024;
/// Widest MLP, as a multiple of the width.
pub const MAX_MLP_RATIO: usize = 64;
/// Largest vocabulary.
pub const MAX_VOCAB: usize = 10_000_000;

impl Config {
    /// Width of the token-embedding table.
    pub fn embed_width(&self) -> usize {
        self.embed_dim.unwrap_or(self.dim)
    }

    /// Refuses shapes that cannot be built or that exceed the limits above.
    pub fn validate(&self) -> crate::Result<()> {
        let within = |name: &'static str, v: usize, max: usize| {
            if v == 0 || v > max {
                return Err(crate::Error::setting(
                    name,
                    format!("{v} (the model's) is outside 1..={max}"),
                ));
            }
            Ok(())
        };
        within("dim", self.dim, MAX_WIDTH)?;
        within("embed_dim", self.embed_width(), MAX_WIDTH)?;
        within("context", self.context, MAX_CONTEXT)?;
        within("layers", self.layers, MAX_LAYERS)?;
        within("heads", self.heads, self.dim)?;
        within("mlp_ratio", self.mlp_ratio, MAX_MLP_RATIO)?;
        within("vocab_size", self.vocab_size, MAX_VOCAB)?;
        if self.dim % self.heads != 0 {
            return Err(crate::Error::setting(
                "dim",
                format!("{} is not a multiple of heads {}", self.dim, self.heads),
            ));
        }
        Ok(())
    }
}

/// Pre-LayerNorm with a learned gain and bias, through candle's differentiable implementation.
struct LayerNorm {
    gain: Tensor,
    bias: Tensor,
}

impl LayerNorm {
    fn new(dim: usize, vb: VarBuilder) -> Result<Self> {
        Ok(LayerNorm {
            gain: vb.get_with_hints(dim, "gain", candle_nn::Init::Const(1.0))?,
            bias: vb.get_with_hints(dim, "bias", candle_nn::Init::Const(0.0))?,
        })
    }
}

impl Module for LayerNorm {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        super::norm::layer_norm(x, &self.gain, &self.bias, 1e-5)
    }
}

/// A linear layer with a bias, as `candle_nn::Linear` (same variable names and shapes) but over
/// the rows of a flattened input and with its bias added by [`super::norm::add_bias`].
struct Dense {
    weight: Tensor,
    bias: Tensor,
}

fn dense(inputs: usize, outputs: usize, vb: VarBuilder) -> Result<Dense> {
    Ok(Dense {
        weight: vb.get((outputs, inputs), "weight")?,
        bias: vb.get(outputs, "bias")?,
    })
}

impl Module for Dense {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let mut dims = x.dims().to_vec();
        let Some(last) = dims.last_mut() else {
            candle_core::bail!("a linear layer needs an input of rank 1 or more");
        };
        let rows = x.elem_count() / (*last).max(1);
        let y = x
            .contiguous()?
            .reshape((rows, *last))?
            .matmul(&self.weight.t()?)?;
        *last = self.bias.dim(0)?;
        super::norm::add_bias(&y, &self.bias)?.reshape(dims)
    }
}

struct Attention {
    qkv: Dense,
    proj: Dense,
    heads: usize,
}

impl Attention {
    fn new(cfg: &Config, vb: VarBuilder) -> Result<Self> {
        Ok(Attention {
            qkv: dense(cfg.dim, 3 * cfg.dim, vb.pp("qkv"))?,
            proj: dense(cfg.dim, cfg.dim, vb.pp("proj"))?,
            heads: cfg.heads,
        })
    }

    /// `mask` is [T, T]: 0 on and below the diagonal, -inf above, so no position sees its future.
    fn forward(&self, x: &Tensor, mask: &Tensor) -> Result<Tensor> {
        let (b, t, c) = x.dims3()?;
        let hd = c / self.heads;
        let qkv = self
            .qkv
            .forward(x)?
            .reshape((b, t, 3, self.heads, hd))?
            .permute((2, 0, 3, 1, 4))?; // [3, B, H, T, hd]
        let q = qkv.get(0)?.contiguous()?;
        let k = qkv.get(1)?.contiguous()?;
        let v = qkv.get(2)?.contiguous()?;
        let att = (q.matmul(&k.t()?)? * (1.0 / (hd as f64).sqrt()))?;
        let att = att.broadcast_add(mask)?;
        let att = candle_nn::ops::softmax(&att, D::Minus1)?;
        let y = att.matmul(&v)?; // [B, H, T, hd]
        let y = y.transpose(1, 2)?.reshape((b, t, c))?;
        self.proj.forward(&y)
    }
}

struct Block {
    ln1: LayerNorm,
    attn: Attention,
    ln2: LayerNorm,
    fc: Dense,
    out: Dense,
}

impl Block {
    fn new(cfg: &Config, vb: VarBuilder) -> Result<Self> {
        let hidden = cfg.mlp_ratio * cfg.dim;
        Ok(Block {
            ln1: LayerNorm::new(cfg.dim, vb.pp("ln1"))?,
            attn: Attention::new(cfg, vb.pp("attn"))?,
            ln2: LayerNorm::new(cfg.dim, vb.pp("ln2"))?,
            fc: dense(cfg.dim, hidden, vb.pp("fc"))?,
            out: dense(hidden, cfg.dim, vb.pp("out"))?,
        })
    }

    fn forward(&self, x: &Tensor, mask: &Tensor) -> Result<Tensor> {
        let x = (x + self.attn.forward(&self.ln1.forward(x)?, mask)?)?;
        let h = super::gelu::gelu(&self.fc.forward(&self.ln2.forward(&x)?)?)?;
        &x + self.out.forward(&h)?
    }
}

/// Variable names, fixed because a checkpoint is a safetensors file keyed by them and
/// `--init` writes the pretrained rows into `TOKEN_EMBEDDING`.
pub const TOKEN_EMBEDDING: &str = "tok.weight";
/// Name of the learned map from the vectors' width to the model's.
pub const PROJECTION: &str = "tok_proj.weight";

/// A pre-LayerNorm decoder-only Transformer with learned positions.
pub struct Transformer {
    tok: Tensor,
    proj: Option<Linear>,
    pos: Tensor,
    blocks: Vec<Block>,
    ln_f: LayerNorm,
    head: Option<Linear>,
    cfg: Config,
}

impl Transformer {
    /// The network, its variables made through `vb`.
    pub fn new(cfg: &Config, vb: VarBuilder) -> Result<Self> {
        if cfg.heads == 0 || cfg.dim % cfg.heads != 0 {
            candle_core::bail!("dim {} is not a multiple of heads {}", cfg.dim, cfg.heads);
        }
        let e = cfg.embed_width();
        let tok = vb.get((cfg.vocab_size, e), TOKEN_EMBEDDING)?;
        let proj = match cfg.embed_dim {
            Some(e) if e != cfg.dim => Some(linear_no_bias(e, cfg.dim, vb.pp("tok_proj"))?),
            _ => None,
        };
        let pos = vb.get((cfg.context, cfg.dim), "pos.weight")?;
        let blocks = (0..cfg.layers)
            .map(|i| Block::new(cfg, vb.pp(format!("blocks.{i}"))))
            .collect::<Result<Vec<_>>>()?;
        let ln_f = LayerNorm::new(cfg.dim, vb.pp("ln_f"))?;
        let head = if cfg.tied {
            None
        } else {
            Some(linear_no_bias(cfg.dim, cfg.vocab_size, vb.pp("head"))?)
        };
        Ok(Transformer {
            tok,
            proj,
            pos,
            blocks,
            ln_f,
            head,
            cfg: cfg.clone(),
        })
    }

    /// Its shape.
    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// The token embedding as the model sees it, [V, dim]: the table, through the projection
    /// when there is one. Tied output logits use the same matrix.
    fn token_matrix(&self) -> Result<Tensor> {
        match &self.proj {
            Some(p) => p.forward(&self.tok),
            None => Ok(self.tok.clone()),
        }
    }

    /// ids [B, T] (u32) to logits [B·T, V].
    pub fn forward(&self, ids: &Tensor) -> Result<Tensor> {
        let emb = self.token_matrix()?;
        let h = self.hidden(ids, &emb)?;
        self.project_out(&h, &emb)
    }

    /// Mean cross-entropy of `targets` [B·T] (u32) after `ids` [B, T], the output layer and its
    /// softmax fused into one operation (see [`super::loss`]).
    pub fn loss(&self, ids: &Tensor, targets: &Tensor) -> Result<Tensor> {
        let emb = self.token_matrix()?;
        let h = self.hidden(ids, &emb)?;
        let n = h.dim(0)?;
        if n == 0 {
            candle_core::bail!("empty batch");
        }
        let weight = match &self.head {
            Some(head) => head.weight(),
            None => &emb,
        };
        super::loss::output_loss(&h, weight, targets)?.sum_all()? / n as f64
    }

    /// The final hidden states, [B·T, dim].
    fn hidden(&self, ids: &Tensor, emb: &Tensor) -> Result<Tensor> {
        let (b, t) = ids.dims2()?;
        if t > self.cfg.context {
            candle_core::bail!(
                "sequence of {t} tokens exceeds the context of {}",
                self.cfg.context
            );
        }
        let x = emb
            .embedding(&ids.flatten_all()?)?
            .reshape((b, t, self.cfg.dim))?;
        let x = super::norm::add_bias(&x, &self.pos.narrow(0, 0, t)?)?;
        let mask = causal_mask(t, ids.device())?;
        let mut x = x;
        for block in &self.blocks {
            x = block.forward(&x, &mask)?;
        }
        self.ln_f.forward(&x)?.reshape((b * t, self.cfg.dim))
    }

    fn project_out(&self, h: &Tensor, emb: &Tensor) -> Result<Tensor> {
        match &self.head {
            Some(head) => head.forward(h),
            None => h.matmul(&emb.t()?),
        }
    }
}

fn causal_mask(t: usize, dev: &Device) -> Result<Tensor> {
    let mask: Vec<f32> = (0..t)
        .flat_map(|i| (0..t).map(move |j| if j > i { f32::NEG_INFINITY } else { 0.0 }))
        .collect();
    Tensor::from_vec(mask, (t, t), dev)?.to_dtype(DType::F32)
}
