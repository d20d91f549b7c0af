"""The Transformers "Fine-tuning" tutorial's code, transcribed, on the built-in demo model and sample data.

Only what cannot be the same here differs from the tutorial, each marked "# here:": the model and dataset are
the offline demo ones, the demo tokenizer has no pad token (Qwen3's has one), gradient_checkpointing has its
transformers-5 name, bf16 is off on a CPU, and the test split gets a seed so two runs can be compared.
benchmarks/parity.py may pass another JSON-lines file with a "horoscope" column (its edge-case data).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main(output_dir: str, seed: int = 42, overrides: dict[str, Any] | None = None,
         callbacks: list | None = None, data_file: str | None = None) -> Any:
    from datasets import load_dataset
    from transformers import (
        AutoModelForCausalLM,
        AutoTokenizer,
        DataCollatorForLanguageModeling,
        Trainer,
        TrainingArguments,
    )

    from finetune_studio.core.demo import SAMPLE_DATASET, demo_model_path

    model_name = str(demo_model_path())  # here: instead of "Qwen/Qwen3-0.6B"
    tokenizer = AutoTokenizer.from_pretrained(model_name)
    tokenizer.pad_token = tokenizer.eos_token  # here: the demo tokenizer has no pad token
    dataset = load_dataset("json", data_files=data_file or str(SAMPLE_DATASET), split="train")  # here: the sample data

    def tokenize(batch):
        return tokenizer(
            batch["horoscope"],
            truncation=True,
            max_length=512,
        )

    dataset = dataset.map(tokenize, batched=True, remove_columns=dataset.column_names)
    dataset = dataset.train_test_split(test_size=0.1, seed=seed)  # here: seeded

    model = AutoModelForCausalLM.from_pretrained(model_name, dtype="auto")

    arguments = dict(
        output_dir=output_dir,
        num_train_epochs=3,
        per_device_train_batch_size=2,
        gradient_accumulation_steps=8,
        activation_checkpointing=True,  # here: gradient_checkpointing's transformers-5 name
        bf16=False,  # here: a CPU
        learning_rate=2e-5,
        logging_steps=10,
        eval_strategy="epoch",
        save_strategy="epoch",
        load_best_model_at_end=True,
        seed=seed,
    )
    arguments.update(overrides or {})
    training_args = TrainingArguments(**arguments)

    trainer = Trainer(
        model=model,
        args=training_args,
        train_dataset=dataset["train"],
        eval_dataset=dataset["test"],
        processing_class=tokenizer,
        data_collator=DataCollatorForLanguageModeling(tokenizer, mlm=False),
        callbacks=callbacks,  # here: benchmarks observe the run (None in the tutorial)
    )

    trainer.train()
    return trainer


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        trainer = main(tmp)
        print([e for e in trainer.state.log_history if "eval_loss" in e])
