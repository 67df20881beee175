"""Attacks on a locked model's weights and checks that a lock lasts (issue 14).

- :mod:`lockbench.attacks.data`: the attack's and the owner's fine-tuning sets, from train splits;
- :mod:`lockbench.attacks.model`: the locked model as a full folder (an adapter merged first);
- :mod:`lockbench.attacks.finetune`: fine-tuning elicitation (PR_lock against k examples);
- :mod:`lockbench.attacks.durability`: merge, bf16/int8, and the key holder's own fine-tuning.
"""
