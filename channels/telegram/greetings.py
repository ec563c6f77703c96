"""The `/start` greeting, in the languages the desk serves."""

# ruff: noqa: RUF001  (native punctuation and letters are intended)

from __future__ import annotations

GREETINGS = {
    "en": "Hello! This is the P2P support desk. Describe your issue and include the order "
    "number if you have one; an agent will answer here.",
    "ru": "Здравствуйте! Это служба поддержки P2P. Опишите проблему и укажите номер ордера, "
    "если он есть; агент ответит здесь.",
    "uk": "Вітаємо! Це служба підтримки P2P. Опишіть проблему та вкажіть номер ордера, якщо "
    "він є; агент відповість тут.",
    "es": "¡Hola! Este es el soporte P2P. Describe tu problema e incluye el número de orden si "
    "lo tienes; un agente te responderá aquí.",
    "pt": "Olá! Este é o suporte P2P. Descreva o seu problema e inclua o número da ordem, se "
    "tiver; um agente responderá aqui.",
    "tr": "Merhaba! Burası P2P destek masası. Sorununuzu anlatın ve varsa sipariş numarasını "
    "ekleyin; bir temsilci burada yanıt verecek.",
    "vi": "Xin chào! Đây là bộ phận hỗ trợ P2P. Hãy mô tả vấn đề và ghi số lệnh nếu có; nhân "
    "viên sẽ trả lời tại đây.",
    "id": "Halo! Ini layanan dukungan P2P. Jelaskan masalah Anda dan sertakan nomor order jika "
    "ada; agen akan menjawab di sini.",
    "zh": "您好！这里是 P2P 客服。请描述您的问题，如有订单号请一并提供；客服会在此回复您。",
    "fr": "Bonjour ! Ici le support P2P. Décrivez votre problème et indiquez le numéro "
    "d'ordre si vous l'avez ; un agent vous répondra ici.",
    "de": "Hallo! Hier ist der P2P-Support. Beschreiben Sie Ihr Anliegen und nennen Sie die "
    "Auftragsnummer, falls vorhanden; ein Mitarbeiter antwortet hier.",
}


def greeting(language: str | None) -> str:
    """The `/start` greeting in the user's language (English when we have none)."""
    return GREETINGS.get(language or "en", GREETINGS["en"])
