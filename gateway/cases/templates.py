# ruff: noqa: RUF001, E501  (texts in many scripts; one language a line reads best)
"""What the desk sends a party about their case, in the party's language.

Each text names only the reader's own order and deadline: nothing of the other party
goes into it. English is the fallback for a language without a text here.
"""

from __future__ import annotations

from datetime import datetime

from gateway.cases.models import DecisionOutcome

EVIDENCE_REQUEST: dict[str, str] = {
    "en": "About order {order}: please send us {what}. We need it by {deadline}. "
    "You can attach it to a reply here.",
    "ru": "По ордеру {order}: пожалуйста, пришлите {what}. Нам это нужно до {deadline}. "
    "Вы можете приложить файл к ответу здесь.",
    "uk": "Щодо ордера {order}: будь ласка, надішліть {what}. Нам це потрібно до {deadline}. "
    "Ви можете додати файл до відповіді тут.",
    "zh": "关于订单 {order}：请发送{what}。我们需要在 {deadline} 之前收到。您可以在此回复中附上文件。",
    "es": "Sobre la orden {order}: envíenos {what}. Lo necesitamos antes de {deadline}. "
    "Puede adjuntarlo en una respuesta aquí.",
    "pt": "Sobre a ordem {order}: envie-nos {what}. Precisamos até {deadline}. "
    "Você pode anexar em uma resposta aqui.",
    "tr": "{order} numaralı emir hakkında: lütfen bize {what} gönderin. {deadline} tarihine "
    "kadar gerekiyor. Buradaki yanıtınıza ekleyebilirsiniz.",
    "vi": "Về lệnh {order}: vui lòng gửi cho chúng tôi {what}. Chúng tôi cần trước {deadline}. "
    "Bạn có thể đính kèm trong câu trả lời tại đây.",
    "id": "Tentang order {order}: mohon kirimkan {what}. Kami membutuhkannya sebelum "
    "{deadline}. Anda dapat melampirkannya di balasan ini.",
}

OUTCOMES: dict[str, dict[DecisionOutcome, str]] = {
    "en": {
        DecisionOutcome.release_to_buyer: "the crypto is released to the buyer",
        DecisionOutcome.return_to_seller: "the crypto is returned to the seller",
        DecisionOutcome.cancel_order: "the order is cancelled",
        DecisionOutcome.no_action: "no action is taken on the order",
        DecisionOutcome.referred_to_risk: "the case is referred to our risk team",
    },
    "ru": {
        DecisionOutcome.release_to_buyer: "криптовалюта передаётся покупателю",
        DecisionOutcome.return_to_seller: "криптовалюта возвращается продавцу",
        DecisionOutcome.cancel_order: "ордер отменён",
        DecisionOutcome.no_action: "по ордеру не принимается никаких действий",
        DecisionOutcome.referred_to_risk: "дело передано нашей команде по рискам",
    },
    "zh": {
        DecisionOutcome.release_to_buyer: "加密货币放行给买方",
        DecisionOutcome.return_to_seller: "加密货币退还给卖方",
        DecisionOutcome.cancel_order: "订单已取消",
        DecisionOutcome.no_action: "订单不做处理",
        DecisionOutcome.referred_to_risk: "案件已转交风控团队",
    },
    "es": {
        DecisionOutcome.release_to_buyer: "las criptomonedas se liberan al comprador",
        DecisionOutcome.return_to_seller: "las criptomonedas se devuelven al vendedor",
        DecisionOutcome.cancel_order: "la orden se cancela",
        DecisionOutcome.no_action: "no se toma ninguna medida sobre la orden",
        DecisionOutcome.referred_to_risk: "el caso pasa a nuestro equipo de riesgos",
    },
    "pt": {
        DecisionOutcome.release_to_buyer: "as criptomoedas são liberadas ao comprador",
        DecisionOutcome.return_to_seller: "as criptomoedas são devolvidas ao vendedor",
        DecisionOutcome.cancel_order: "a ordem é cancelada",
        DecisionOutcome.no_action: "nenhuma ação é tomada sobre a ordem",
        DecisionOutcome.referred_to_risk: "o caso foi encaminhado à nossa equipe de risco",
    },
    "uk": {
        DecisionOutcome.release_to_buyer: "криптовалюту передано покупцю",
        DecisionOutcome.return_to_seller: "криптовалюту повернуто продавцю",
        DecisionOutcome.cancel_order: "ордер скасовано",
        DecisionOutcome.no_action: "щодо ордера не вживається жодних дій",
        DecisionOutcome.referred_to_risk: "справу передано нашій команді з ризиків",
    },
    "tr": {
        DecisionOutcome.release_to_buyer: "kripto alıcıya serbest bırakılıyor",
        DecisionOutcome.return_to_seller: "kripto satıcıya iade ediliyor",
        DecisionOutcome.cancel_order: "emir iptal edildi",
        DecisionOutcome.no_action: "emir için herhangi bir işlem yapılmıyor",
        DecisionOutcome.referred_to_risk: "dosya risk ekibimize iletildi",
    },
    "vi": {
        DecisionOutcome.release_to_buyer: "tiền mã hóa được giải phóng cho người mua",
        DecisionOutcome.return_to_seller: "tiền mã hóa được trả lại cho người bán",
        DecisionOutcome.cancel_order: "lệnh đã bị hủy",
        DecisionOutcome.no_action: "không có hành động nào đối với lệnh",
        DecisionOutcome.referred_to_risk: "vụ việc được chuyển cho đội rủi ro",
    },
    "id": {
        DecisionOutcome.release_to_buyer: "kripto dilepaskan kepada pembeli",
        DecisionOutcome.return_to_seller: "kripto dikembalikan kepada penjual",
        DecisionOutcome.cancel_order: "order dibatalkan",
        DecisionOutcome.no_action: "tidak ada tindakan atas order ini",
        DecisionOutcome.referred_to_risk: "kasus diteruskan ke tim risiko kami",
    },
}

DECISION: dict[str, str] = {
    "en": "Our decision on order {order}: {outcome}. If you disagree, reply here by "
    "{appeal_until} to appeal.",
    "ru": "Наше решение по ордеру {order}: {outcome}. Если вы не согласны, ответьте здесь "
    "до {appeal_until}, чтобы подать апелляцию.",
    "zh": "我们对订单 {order} 的决定：{outcome}。如有异议，请在 {appeal_until} 之前在此回复以提出申诉。",
    "es": "Nuestra decisión sobre la orden {order}: {outcome}. Si no está de acuerdo, "
    "responda aquí antes de {appeal_until} para apelar.",
    "pt": "Nossa decisão sobre a ordem {order}: {outcome}. Se não concordar, responda aqui "
    "até {appeal_until} para recorrer.",
    "uk": "Наше рішення щодо ордера {order}: {outcome}. Якщо ви не згодні, відповідайте тут "
    "до {appeal_until}, щоб подати апеляцію.",
    "tr": "{order} numaralı emir hakkındaki kararımız: {outcome}. Katılmıyorsanız itiraz için "
    "{appeal_until} tarihine kadar buradan yanıt verin.",
    "vi": "Quyết định của chúng tôi về lệnh {order}: {outcome}. Nếu không đồng ý, hãy trả lời "
    "tại đây trước {appeal_until} để khiếu nại.",
    "id": "Keputusan kami atas order {order}: {outcome}. Jika Anda tidak setuju, balas di sini "
    "sebelum {appeal_until} untuk mengajukan banding.",
}


def _when(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M UTC")


def _lang(language: str | None, table: dict[str, object]) -> str:
    base = (language or "en").split("-")[0].lower()
    return base if base in table else "en"


def evidence_request(language: str | None, *, order: str, what: str, deadline: datetime) -> str:
    lang = _lang(language, EVIDENCE_REQUEST)  # type: ignore[arg-type]
    return EVIDENCE_REQUEST[lang].format(order=order, what=what, deadline=_when(deadline))


def decision(
    language: str | None, *, order: str, outcome: DecisionOutcome, appeal_until: datetime
) -> str:
    lang = _lang(language, DECISION)  # type: ignore[arg-type]
    return DECISION[lang].format(
        order=order, outcome=OUTCOMES[lang][outcome], appeal_until=_when(appeal_until)
    )
