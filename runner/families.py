"""Model families: what a model takes as input, which tasks apply, how its outputs are checked.

ScaleBoard drives three kinds of Hugging Face model, told apart by the architecture their
config names (``config.architectures``, e.g. ``["BertForMaskedLM"]``):

=====================  ===================  ==========================  =================
family                 architectures        input (one sample)          tasks
=====================  ===================  ==========================  =================
causal-lm              ``*ForCausalLM``,    ``seq_len`` token ids       forward, generate,
                       ``*LMHeadModel``                                 train
masked-lm              ``*ForMaskedLM``     ``seq_len`` token ids       forward, train
image-classification   ``*ForImage-         3 × size × size pixels      forward, train
                       Classification``     (``config.image_size``,
                                            224 where it has none)
=====================  ===================  ==========================  =================

Every family is called the same way, ``model(inputs)`` with one positional tensor (token ids
or pixel values), and its first output is the logits the correctness gate compares: per
token for the language models, per image for the classifiers (top-1 agreement is then the
share of images whose predicted class is fp32 eager's).

Training uses each family's own labels: the input ids for a causal LM (next-token loss, the
model shifts them) and for a masked LM (every position a target, no masking: the cost of a
step does not depend on which tokens are masked), a fixed class per image for a classifier.

A model without attention layers (ResNet) has no attention axis: its records say
``attention: null`` and a suite's attention list collapses to one group.

This module imports torch only inside functions.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scaleboard.errors import ConfigError

#: Gate and timing inputs are drawn from fixed seeds (see :mod:`scaleboard.runner.quality`).
DEFAULT_IMAGE_SIZE = 224


@dataclass(frozen=True)
class Family:
    name: str
    auto_class: str  # the transformers Auto class that loads a local directory of this family
    input_kind: str  # "tokens" or "pixels"
    tasks: tuple[str, ...]
    suffixes: tuple[str, ...]  # architecture names that belong to it end with one of these

    @property
    def tokens(self) -> bool:
        return self.input_kind == "tokens"


FAMILIES: dict[str, Family] = {
    f.name: f
    for f in (
        Family("causal-lm", "AutoModelForCausalLM", "tokens", ("forward", "generate", "train"),
               ("ForCausalLM", "LMHeadModel")),
        Family("masked-lm", "AutoModelForMaskedLM", "tokens", ("forward", "train"), ("ForMaskedLM",)),
        Family("image-classification", "AutoModelForImageClassification", "pixels", ("forward", "train"),
               ("ForImageClassification",)),
    )
}  # fmt: skip

#: transformers' model_type → class tables of each family's Auto class, for a config that names
#: no architecture. Masked LM first: BERT-like types also have a causal-LM head class.
_AUTO_MAPPINGS = (
    ("masked-lm", "MODEL_FOR_MASKED_LM_MAPPING_NAMES"),
    ("image-classification", "MODEL_FOR_IMAGE_CLASSIFICATION_MAPPING_NAMES"),
    ("causal-lm", "MODEL_FOR_CAUSAL_LM_MAPPING_NAMES"),
)

#: Model types whose models have no attention layers (``attn_implementation`` does not apply).
NO_ATTENTION = ("resnet", "convnext", "regnet", "mobilenet_v1", "mobilenet_v2", "efficientnet")


def family_of_architectures(architectures: list[str] | None, where: str, model_type: str | None = None) -> Family:
    """The family an architecture list names (else the first whose Auto class knows ``model_type``);
    ConfigError naming what is supported otherwise."""
    for arch in architectures or []:
        for family in FAMILIES.values():
            if arch.endswith(family.suffixes):
                return family
    if not architectures and model_type:
        from transformers.models.auto import modeling_auto

        for family_name, mapping in _AUTO_MAPPINGS:
            if model_type in getattr(modeling_auto, mapping):
                return FAMILIES[family_name]
    supported = "; ".join(f"{f.name} (*{', *'.join(f.suffixes)})" for f in FAMILIES.values())
    named = ", ".join(architectures) if architectures else "no architecture"
    raise ConfigError(f"{where}: ScaleBoard cannot drive {named}; supported families: {supported}")


def read_config(folder: Path) -> dict[str, Any]:
    """A model directory's config.json as a dict (no transformers import)."""
    path = folder / "config.json"
    try:
        config: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return config
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: not a readable model config ({exc})") from None


def has_attention(model_type: str | None) -> bool:
    return model_type not in NO_ATTENTION


def task_unsupported(family: Family, task: str) -> str | None:
    if task in family.tasks:
        return None
    return f"task {task} does not apply to a {family.name} model (it applies to: {', '.join(family.tasks)})"


def image_size(config: Any) -> int:
    size = getattr(config, "image_size", None)
    if isinstance(size, (list, tuple)):
        size = size[0]
    return int(size or DEFAULT_IMAGE_SIZE)


def sample_shape(family: Family, config: Any, seq_len: int) -> list[int]:
    """One sample's input shape: ``[seq_len]`` tokens or ``[channels, size, size]`` pixels."""
    if family.tokens:
        return [seq_len]
    size = image_size(config)
    return [int(getattr(config, "num_channels", 3) or 3), size, size]


def make_inputs(family: Family, config: Any, rows: int, seq_len: int, seed: int, device: str) -> Any:
    """``rows`` samples from a fixed seed: random token ids inside the vocabulary, or pixels ~ N(0, 1)
    (what an image processor's normalisation gives)."""
    import torch

    generator = torch.Generator().manual_seed(seed)
    if family.tokens:
        inputs = torch.randint(0, config.vocab_size, (rows, seq_len), generator=generator)
    else:
        inputs = torch.randn((rows, *sample_shape(family, config, seq_len)), generator=generator)
    return inputs.to(device)


def train_labels(family: Family, config: Any, inputs: Any) -> Any:
    """Labels for one training step on ``inputs`` (see the module doc)."""
    import torch

    if family.tokens:
        return inputs
    classes = int(getattr(config, "num_labels", 2) or 2)
    return torch.arange(inputs.shape[0], device=inputs.device) % classes


def reference_losses(family: Family, logits: Any, inputs: Any, labels: Any) -> list[float]:
    """Per-row loss fp32 eager gives on the gate's rows, from its cached logits (what the model's own
    loss computes: shifted for a causal LM, every position for a masked LM, one class per image)."""
    import torch.nn.functional as F

    losses = []
    for r in range(logits.shape[0]):
        row = logits[r].float()
        if family.name == "causal-lm":
            loss = F.cross_entropy(row[:-1], labels[r, 1:])
        elif family.tokens:
            loss = F.cross_entropy(row, labels[r])
        else:
            loss = F.cross_entropy(row.unsqueeze(0), labels[r].unsqueeze(0))
        losses.append(loss.item())
    return losses
