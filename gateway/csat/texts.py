# ruff: noqa: RUF001  (native punctuation and letters are intended)
"""The survey's words in the desk's customer languages (English when we have none)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SurveyTexts:
    question: str
    scale: str  # what 1 and 5 mean
    thanks: str
    comment_prompt: str
    used: str  # a link that already worked
    invalid: str  # a forged or broken link
    expired: str
    # Telegram asks for the comment in a message of its own, with a Skip button.
    comment_hint: str
    skip: str
    comment_thanks: str


TEXTS = {
    "en": SurveyTexts(
        "How satisfied are you with how we handled your request {ref}?",
        "1 = very dissatisfied, 5 = very satisfied",
        "Thank you for your rating.",
        "Anything you would like to add? (optional)",
        "This rating link was already used. Thank you, your answer is on record.",
        "This rating link is not valid.",
        "This rating link has expired.",
        "Reply here with a message, or tap Skip.",
        "Skip",
        "Thank you, your comment is on record.",
    ),
    "ru": SurveyTexts(
        "Насколько вы довольны решением вашего обращения {ref}?",
        "1 = совсем недоволен, 5 = очень доволен",
        "Спасибо за вашу оценку.",
        "Хотите что-нибудь добавить? (необязательно)",
        "Эта ссылка уже использована. Спасибо, ваш ответ сохранён.",
        "Эта ссылка недействительна.",
        "Срок действия этой ссылки истёк.",
        "Ответьте здесь сообщением или нажмите «Пропустить».",
        "Пропустить",
        "Спасибо, ваш комментарий сохранён.",
    ),
    "zh": SurveyTexts(
        "您对我们处理您的请求 {ref} 的方式满意吗？",
        "1 = 非常不满意，5 = 非常满意",
        "感谢您的评价。",
        "还有什么想补充的吗？（可选）",
        "此评价链接已被使用。谢谢，您的回答已记录。",
        "此评价链接无效。",
        "此评价链接已过期。",
        "请直接在此回复一条消息，或点击“跳过”。",
        "跳过",
        "谢谢，您的评论已记录。",
    ),
    "es": SurveyTexts(
        "¿Qué tan satisfecho está con la atención de su solicitud {ref}?",
        "1 = muy insatisfecho, 5 = muy satisfecho",
        "Gracias por su valoración.",
        "¿Algo que quiera añadir? (opcional)",
        "Este enlace ya se usó. Gracias, su respuesta está registrada.",
        "Este enlace de valoración no es válido.",
        "Este enlace de valoración ha caducado.",
        "Responda aquí con un mensaje o pulse «Omitir».",
        "Omitir",
        "Gracias, su comentario está registrado.",
    ),
    "pt": SurveyTexts(
        "Quão satisfeito você está com o atendimento da sua solicitação {ref}?",
        "1 = muito insatisfeito, 5 = muito satisfeito",
        "Obrigado pela sua avaliação.",
        "Algo que queira acrescentar? (opcional)",
        "Este link já foi usado. Obrigado, sua resposta está registrada.",
        "Este link de avaliação não é válido.",
        "Este link de avaliação expirou.",
        "Responda aqui com uma mensagem ou toque em “Pular”.",
        "Pular",
        "Obrigado, seu comentário foi registrado.",
    ),
    "tr": SurveyTexts(
        "{ref} numaralı talebinizin ele alınışından ne kadar memnunsunuz?",
        "1 = hiç memnun değilim, 5 = çok memnunum",
        "Değerlendirmeniz için teşekkürler.",
        "Eklemek istediğiniz bir şey var mı? (isteğe bağlı)",
        "Bu bağlantı zaten kullanıldı. Teşekkürler, yanıtınız kaydedildi.",
        "Bu değerlendirme bağlantısı geçerli değil.",
        "Bu değerlendirme bağlantısının süresi doldu.",
        "Buraya bir mesajla yanıt verin veya “Geç”e dokunun.",
        "Geç",
        "Teşekkürler, yorumunuz kaydedildi.",
    ),
    "vi": SurveyTexts(
        "Bạn hài lòng thế nào với cách chúng tôi xử lý yêu cầu {ref}?",
        "1 = rất không hài lòng, 5 = rất hài lòng",
        "Cảm ơn bạn đã đánh giá.",
        "Bạn có muốn bổ sung gì không? (không bắt buộc)",
        "Liên kết này đã được sử dụng. Cảm ơn, câu trả lời của bạn đã được ghi nhận.",
        "Liên kết đánh giá này không hợp lệ.",
        "Liên kết đánh giá này đã hết hạn.",
        "Hãy trả lời bằng một tin nhắn tại đây, hoặc bấm “Bỏ qua”.",
        "Bỏ qua",
        "Cảm ơn, nhận xét của bạn đã được ghi nhận.",
    ),
    "id": SurveyTexts(
        "Seberapa puas Anda dengan penanganan permintaan {ref}?",
        "1 = sangat tidak puas, 5 = sangat puas",
        "Terima kasih atas penilaian Anda.",
        "Ada yang ingin ditambahkan? (opsional)",
        "Tautan ini sudah digunakan. Terima kasih, jawaban Anda sudah tercatat.",
        "Tautan penilaian ini tidak valid.",
        "Tautan penilaian ini sudah kedaluwarsa.",
        "Balas di sini dengan pesan, atau ketuk “Lewati”.",
        "Lewati",
        "Terima kasih, komentar Anda sudah tercatat.",
    ),
}


def texts_for(language: str | None) -> tuple[str, SurveyTexts]:
    """(language used, its texts): the customer's language, else English."""
    base = (language or "en").split("-", 1)[0].lower()
    if base in TEXTS:
        return base, TEXTS[base]
    return "en", TEXTS["en"]
