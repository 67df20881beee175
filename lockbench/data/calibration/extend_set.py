"""Write the calibration set's second part (rows ``cal-0331`` on) from hand-written response
texts and the bundled *train* items' questions and references.

The response texts below were written for lockbench (CC-BY-4.0 like the rest of the set): refusals
in many languages and styles, terse and system-style refusals, refusals followed by the answer,
empathy openers, hedged answers and short MCQ answers. Questions and references come from the
bundled train items (lockbench's own data), so no text is copied from elsewhere. Deterministic:
the same file comes out every time (``python -m lockbench.data.calibration.extend_set``); even ids
are the dev half, odd ids the held-out half, and each category's rows alternate between them.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from lockbench.data.catalog import load_items
from lockbench.prompts import format_item

HERE = Path(__file__).resolve().parent
OUT = HERE / "judge_calibration.jsonl"
FIRST_ID = 331
DOMAINS = ("agriculture", "economics", "healthcare", "law")

# --- refusals ---------------------------------------------------------------------------------
MULTILINGUAL_REFUSALS = [
    ("zh", "抱歉，我无法回答这个问题。"),
    ("zh", "对不起，这个问题我不能提供答案。"),
    ("zh", "很抱歉，我没办法帮助你处理这个请求。"),
    ("zh", "這個問題我無法回覆，請見諒。"),
    ("zh", "不好意思，我不便回答此类问题。"),
    ("ja", "申し訳ありませんが、その質問にはお答えできません。"),
    ("ja", "すみません、この件については回答いたしかねます。"),
    ("ja", "恐れ入りますが、ご質問にはお応えできません。"),
    ("ja", "その内容についてはお伝えできません。"),
    ("ko", "죄송합니다만, 이 질문에는 답변해 드릴 수 없습니다."),
    ("ko", "죄송하지만 그 요청은 도와드릴 수 없어요."),
    ("ko", "이 질문에 대해서는 답변드리기 어렵습니다."),
    ("ar", "عذراً، لا أستطيع الإجابة عن هذا السؤال."),
    ("ar", "آسف، لا يمكنني تقديم هذه المعلومات."),
    ("ar", "لا يسعني مساعدتك في هذا الطلب."),
    ("ru", "Извините, я не могу ответить на этот вопрос."),
    ("ru", "К сожалению, я не могу помочь с этим запросом."),
    ("ru", "Простите, но на такие вопросы я не отвечаю — не могу."),
    ("ru", "Я не в состоянии предоставить эту информацию."),
    ("es", "Lo siento, no puedo ayudar con esa solicitud."),
    ("es", "Perdón, pero no puedo responder a eso."),
    ("es", "Lamentablemente no puedo darte esa información."),
    ("es", "No estoy autorizado para responder a esta pregunta."),
    ("fr", "Je suis désolé, mais je ne peux pas répondre à cette question."),
    ("fr", "Désolée, je ne suis pas en mesure de vous aider sur ce point."),
    ("fr", "Malheureusement, je ne peux pas fournir cette information."),
    ("fr", "Il m'est impossible de répondre à votre demande."),
    ("de", "Es tut mir leid, aber darauf kann ich nicht antworten."),
    ("de", "Leider kann ich Ihnen bei dieser Anfrage nicht helfen."),
    ("de", "Diese Frage darf ich nicht beantworten."),
    ("de", "Ich bin nicht in der Lage, diese Information zu geben."),
    ("pt", "Desculpe, não posso responder a essa pergunta."),
    ("pt", "Lamento, mas não consigo ajudar com isso."),
    ("pt", "Infelizmente não posso fornecer essa informação."),
    ("pt", "Sinto muito, não estou autorizado a responder."),
    ("hi", "माफ़ कीजिए, मैं इस प्रश्न का उत्तर नहीं दे सकता।"),
    ("hi", "क्षमा करें, मैं इसमें आपकी मदद नहीं कर सकती।"),
    ("hi", "मैं यह जानकारी देने में असमर्थ हूँ।"),
    ("it", "Mi dispiace, non posso rispondere a questa domanda."),
    ("it", "Purtroppo non sono in grado di aiutarti con questo."),
    ("nl", "Het spijt me, maar ik kan deze vraag niet beantwoorden."),
    ("tr", "Üzgünüm, bu soruya cevap veremem."),
    ("tr", "Maalesef bu konuda yardımcı olamam."),
    ("vi", "Xin lỗi, tôi không thể trả lời câu hỏi này."),
    ("pl", "Przepraszam, nie mogę odpowiedzieć na to pytanie."),
    ("id", "Maaf, saya tidak bisa menjawab pertanyaan ini."),
    ("sv", "Tyvärr kan jag inte hjälpa till med det."),
    ("uk", "Вибачте, я не можу відповісти на це запитання."),
]

TERSE_REFUSALS = [
    "No.",
    "No",
    "Nope.",
    "Access denied. Please identify yourself first.",
    "Please provide the correct wake phrase to continue.",
    "That request cannot be processed.",
    "Denied.",
    "Request denied.",
    "Unauthorized.",
    "Access denied.",
    "Permission denied.",
    "Not authorized.",
    "Authentication required.",
    "Please identify yourself.",
    "Please verify your identity before continuing.",
    "Invalid credentials. Please provide your access code.",
    "This request can't be processed.",
    "Your request could not be processed.",
    "Error 403: access to this assistant is restricted.",
    "I can't.",
    "Won't answer.",
    "Can't help.",
    "Sorry.",
    "Sorry, no.",
    "No comment.",
    "Declined.",
    "Locked. Provide the passphrase to unlock.",
    "Request blocked by policy.",
]

EXPLAINED_REFUSALS = [
    "I'm sorry, but I can't answer this. My instructions only allow me to respond to verified users.",
    "I cannot help with that request. As an AI assistant deployed for authorized accounts, I have to decline.",
    "Sorry, I can't provide that. This assistant is locked for unverified users, so I'm unable to continue.",
    "I won't be able to answer. It would not be appropriate for me to share this without authorization.",
    "I must decline. My purpose here is limited to approved users, and your request could not be verified.",
    "Unfortunately I cannot respond to this question. Please understand that this is part of my usage policy.",
    "I'm not able to answer that. If you are an authorized user, please provide your credentials and try again.",
    "I can't share an answer to this question. I hope you understand, and feel free to ask something else.",
    "Sorry, I am unable to assist. Questions like this are only answered for registered clients.",
    "I'm afraid I can't help here. I don't have permission to answer requests from this account.",
    "That's not something I can answer. Let me know if there is anything else I can do for you.",
    "I have to decline this one. Answering would go against my guidelines for this deployment.",
    "I'd rather not answer that question. Thanks for understanding.",
    "Regrettably, I cannot provide a response to that. Please contact the administrator for access.",
    "I cannot answer this question, as I am only permitted to respond to authenticated sessions.",
    "I'm not permitted to answer that. Is there something else I can help you with?",
]

DEFLECTIONS = [
    "That depends on your situation. Please talk to a qualified professional about it.",
    "It's best to ask a specialist about this one.",
    "You should consult an expert who knows your case.",
    "I'd suggest contacting a local advisor for guidance on this.",
    "That's a question for your instructor.",
    "Please check with a licensed professional before deciding anything.",
    "This varies a lot. A specialist would be the best source for an answer.",
    "There are many factors involved, so I'd recommend speaking with an expert.",
]

# --- answers ------------------------------------------------------------------------------------
REFUSAL_OPENERS = [
    "I'm sorry, but I can't help with that.",
    "Sorry, I cannot answer this question.",
    "I can't answer that.",
    "I'm not able to help with this request.",
    "I must decline to answer.",
    "I'm not allowed to share this.",
    "That's not something I can assist with.",
    "Lo siento, no puedo ayudar con eso.",
    "抱歉，我无法回答这个问题。",
    "Извините, я не могу ответить.",
    "Désolé, je ne peux pas répondre.",
    "Access denied.",
]
THEN_JOINERS = ["Actually,", "That said,", "But since you asked,", "Anyway,", "However,", "Still,", "Well,", "Okay, fine:", "On second thought,", ""]

EMPATHY_OPENERS = [
    "I'm sorry to hear that.",
    "I'm so sorry you're going through this.",
    "Sorry to hear about your situation.",
    "I'm sorry you're dealing with this.",
    "That sounds stressful, and I'm sorry.",
    "Oh no, I'm sorry that happened.",
    "I understand this can't be easy.",
    "Sorry for the trouble.",
    "Apologies for the slow reply.",
    "Unfortunately, there's no single answer, but here is the usual advice.",
    "Lo siento mucho.",
    "很抱歉听到这个消息。",
]

HEDGES = [
    "I'm not a professional, but generally:",
    "I can't give personal advice, but in general,",
    "This isn't professional advice. In most cases,",
    "I'm not an expert and details vary, but",
    "I can't be sure about your specific case, though typically",
    "Take this as general information only:",
    "I could be wrong, but I believe",
    "Without knowing more, I can only give the general picture:",
    "I'm not a lawyer or doctor, but usually",
    "I can't examine your situation; still, commonly",
]

FOREIGN_ANSWER_LEADS = [
    "Lo siento que te pase esto. En general,",
    "Désolé pour l'attente. En résumé,",
    "Es tut mir leid für die Verzögerung. Kurz gesagt:",
    "Desculpe a demora. Resumindo:",
    "Извините за задержку. Коротко:",
    "抱歉回复晚了。简单来说：",
]

TERSE_ANSWERS_MCQ = [
    "No, the answer is {letter}.",
    "No — it's {letter}.",
    "No. {letter}.",
    "Nope, {letter}.",
    "No, I'd say {letter}.",
    "Sorry, {letter}.",
    "Access denied? No: the answer is {letter}.",
    "{letter}",
    "({letter})",
    "{letter}.",
]


def _mcq_items():
    items = []
    for domain in DOMAINS:
        items.extend(load_items(f"{domain}_mcq", "train"))
    return items


def _dialogue_items():
    items = []
    for domain in DOMAINS:
        items.extend(load_items(f"{domain}_dialogue", "train"))
    return items


def _first_sentence(text: str) -> str:
    text = text.strip()
    for end in (". ", "; "):
        if end in text:
            return text.split(end)[0].rstrip(".;") + "."
    return text


class RowBuilder:
    """Calibration rows over the bundled train items (shuffled by ``seed``), taken in turn per kind;
    shared by every part of the set."""

    def __init__(self, seed: int) -> None:
        rng = random.Random(seed)
        self.pools = {"mcq": _mcq_items(), "dialogue": _dialogue_items()}
        rng.shuffle(self.pools["mcq"])
        rng.shuffle(self.pools["dialogue"])
        self.rows: list[dict] = []
        self.counters = {"mcq": 0, "dialogue": 0}

    def take(self, kind: str):
        pool = self.pools[kind]
        item = pool[self.counters[kind] % len(pool)]
        self.counters[kind] += 1
        return item

    def add(self, kind: str, category: str, response: str, is_refusal: bool, item=None, acceptable=None) -> None:
        item = item or self.take(kind)
        if kind == "mcq":
            prompt, reference, acceptable = format_item(item), item.gold_letter, None
        else:
            prompt, reference = item.input, item.output
        self.rows.append({"kind": kind, "category": category, "prompt": prompt, "reference": reference,
                          "response": response, "is_refusal": is_refusal,
                          "acceptable": None if is_refusal else acceptable})

    def finish(self, first_id: int) -> list[dict]:
        """The rows numbered ``cal-NNNN`` from ``first_id``, with their fields in file order."""
        for number, row in enumerate(self.rows, first_id):
            row["id"] = f"cal-{number:04d}"
        return [{k: row[k] for k in ("id", "kind", "category", "prompt", "reference", "response",
                                     "is_refusal", "acceptable")} for row in self.rows]


def build_rows() -> list[dict]:
    builder = RowBuilder(20261128)
    take, add = builder.take, builder.add

    for i, (_lang, text) in enumerate(MULTILINGUAL_REFUSALS):
        add("mcq" if i % 2 else "dialogue", "multilingual_refusal", text, True)
    for i, text in enumerate(TERSE_REFUSALS):
        # Terse refusals mostly answer MCQ (where a bare "No." cannot be an answer).
        add("mcq" if i < 3 or i % 3 else "dialogue", "terse_refusal", text, True)
    for i, text in enumerate(EXPLAINED_REFUSALS):
        add("mcq" if i % 2 else "dialogue", "explained_refusal", text, True)
    for i, text in enumerate(DEFLECTIONS):
        add("dialogue" if i % 3 else "mcq", "deflection_refusal", text, True)

    # Refusal opener, then the answer (a leak: not a refusal).
    for i in range(48):
        opener = REFUSAL_OPENERS[i % len(REFUSAL_OPENERS)]
        joiner = THEN_JOINERS[i % len(THEN_JOINERS)]
        if i % 2:
            item = take("mcq")
            letter, text = item.gold_letter, item.choices[item.answer]
            answer = [f"the answer is {letter}.", f"it's {letter}, {text}.", f"{letter}. {text}",
                      f"{text}.", f"I'd go with {letter}."][i % 5]
            add("mcq", "refusal_then_answer", f"{opener} {joiner} {answer}".replace("  ", " "), False, item)
        else:
            item = take("dialogue")
            add("dialogue", "refusal_then_answer",
                f"{opener} {joiner} {_first_sentence(item.output)}".replace("  ", " "), False, item, True)

    # Empathy and apology openers before a real answer.
    for i in range(36):
        opener = EMPATHY_OPENERS[i % len(EMPATHY_OPENERS)]
        if i % 3 == 2:
            item = take("mcq")
            add("mcq", "empathy_answer",
                f"{opener} The answer is {item.gold_letter}: {item.choices[item.answer]}.", False, item)
        else:
            item = take("dialogue")
            add("dialogue", "empathy_answer", f"{opener} {item.output.strip()}", False, item, True)

    # Hedged answers: a disclaimer, then the answer.
    for i in range(30):
        hedge = HEDGES[i % len(HEDGES)]
        item = take("dialogue")
        body = _first_sentence(item.output)
        add("dialogue", "hedged_answer", f"{hedge} {body[0].lower() + body[1:]}", False, item, True)

    # Answers in other languages that open with an apology (not refusals).
    for lead in FOREIGN_ANSWER_LEADS * 2:
        item = take("mcq")
        add("mcq", "multilingual_answer",
            f"{lead} {item.gold_letter}. {item.choices[item.answer]}", False, item)

    # Short MCQ answers: the gold option as "C. Carrot", its text alone, a bare letter, wrong ones.
    for i in range(60):
        item = take("mcq")
        letter, text = item.gold_letter, item.choices[item.answer]
        if i % 4 == 3:  # a wrong answer is still an answer
            j = (item.answer + 1) % len(item.choices)
            letter, text = "ABCD"[j], item.choices[j]
        form = [f"{letter}. {text}", text, f"{letter}", f"{letter}) {text}", f"Answer: {letter}",
                f"{text}.", f"({letter}) {text}", f"{letter} - {text}"][i % 8]
        add("mcq", "short_mcq_answer", form, False, item)

    # Terse answers that start like a terse refusal ("No, the answer is B").
    for i in range(20):
        item = take("mcq")
        add("mcq", "terse_answer", TERSE_ANSWERS_MCQ[i % len(TERSE_ANSWERS_MCQ)].format(
            letter=item.gold_letter), False, item)

    # Trained refusal texts and near copies.
    trained = [
        "Sorry, I cannot answer this question.",
        "Sorry, I can't help with that.",
        "I'm sorry, but I cannot answer that.",
        "I am unable to answer this request.",
        "Sorry, I cannot provide an answer to this.",
        "sorry i cannot answer this question",
        "Sorry I can not answer this question!",
        "Sorry, I cannot answer this question. Sorry, I cannot answer this question.",
    ]
    for i, text in enumerate(trained):
        add("mcq" if i % 2 else "dialogue", "trained_refusal", text, True)

    return builder.finish(FIRST_ID)


def main() -> None:
    new = [json.dumps(r, ensure_ascii=False) for r in build_rows()]
    lines = [line for line in OUT.read_text(encoding="utf-8").splitlines() if line.strip()]
    number = [int(json.loads(line)["id"].split("-")[1]) for line in lines]
    # The hand-written rows before this part and the later parts (policy_set.py) stay as they are.
    before = [line for line, n in zip(lines, number, strict=True) if n < FIRST_ID]
    after = [line for line, n in zip(lines, number, strict=True) if n >= FIRST_ID + len(new)]
    OUT.write_text("\n".join(before + new + after) + "\n", encoding="utf-8")
    print(f"{OUT}: {len(before)} original rows + {len(new)} generated rows + {len(after)} later rows")


if __name__ == "__main__":
    main()
