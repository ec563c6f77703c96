# ruff: noqa: RUF001, E501  (phrases in many scripts; one language a line reads best)
"""What customers write, per dispute category and severity signal, in the desk's languages.

Stems, not whole words: a phrase matches at the start of a word ("заблокир" matches
"заблокировали"), and for Latin and Cyrillic words of five letters or more one typo is
forgiven (two from nine letters). Scripts written without spaces (Chinese, Japanese,
Thai) match anywhere. Text and phrases go through the same normalisation
(`classify.normalise`): lower case, accents and marks folded, Arabic-script letter
variants unified, letters repeated three times or more collapsed.

Keep each list to what customers really write; the category order in `CATEGORY_ORDER`
decides when several match (theft beats a late release).
"""

from __future__ import annotations

# One string per language, phrases separated by "|".
CATEGORY_PHRASES: dict[str, dict[str, str]] = {
    "account_takeover": {
        "en": "hacked|account was hacked|someone logged in|somebody logged|not me who|"
        "i did not make this withdraw|i didn't make this withdraw|unauthorized withdraw|"
        "unauthorised withdraw|unauthorized login|changed my password|stole my account|"
        "stolen account|lost access to my account|2fa changed|sim swap"
        "|logged into my account|login from unknown device|login from an unknown device|from an unknown device|changed my 2fa|account compromised|account was compromised|withdrawal i never|never approved|emptied my",
        "ru": "взлом|взломали|украли аккаунт|в аккаунт зашли|зашел кто-то|зашли в мой|не я вывод|"
        "вывод не делал|несанкционирован|сменили пароль|угнали аккаунт"
        "|это не я|делал не я|взломан|скомпрометирован|сменили 2фа|сменил 2фа|с неизвестного устройства|vzlomali|kto to vzlomal",
        "uk": "зламали|злам|вкрали акаунт|хтось зайшов|змінили пароль|несанкціонован"
        "|скомпрометован|змінив пароль|змінили 2фа|змінив 2фа|з невідомого пристрою|робив не я|зламан",
        "zh": "被盗|盗号|被黑|黑客|账号被盗|帳號被盜|不是我操作|我没有提现|我沒有提現|被人登录|被登入"
        "|改了我的密码|改了我的谷歌验证|陌生设备登录|陌生設備登入|异地登录|異地登入|不是我本人|账户被盗|帳戶被盜|资产全没了",
        "vi": "bi hack|hack tai khoan|mat tai khoan|bi chiem tai khoan|bi trom tai khoan"
        "|khong phai toi lam|khong phai em lam|dang nhap tai khoan|dang nhap tu thiet bi la|doi mat khau|doi 2fa|tai san mat het",
        "id": "dibobol|diretas|kena hack|di hack|akun dicuri|bukan saya yang tarik"
        "|ganti 2fa|ganti password|login dari perangkat|akun saya dibajak|dibajak|saldo ditarik orang",
        "ms": "digodam|kena hack|akaun dicuri"
        "|log masuk dari peranti|bukan saya yang|tukar kata laluan",
        "tr": "hacklendi|hesabim calindi|hesabima girildi|sifrem degistirildi|izinsiz giris"
        "|ben yapmadim|bilinmeyen cihaz|2fa yi degistir|sifremi degistir|hesabima girmis|hesabima girdi|hacklen",
        "es": "hackearon|hackeada|hackeado|me robaron la cuenta|acceso no autorizado|"
        "retiro no autorizado|no fui yo"
        "|cambio mi contrasena|cambiaron mi contrasena|dispositivo desconocido|no reconozco este retiro",
        "pt": "hackearam|hackeada|hackeado|invadiram|roubaram minha conta|nao fui eu|"
        "saque nao autorizado"
        "|trocou minha senha|trocaram minha senha|dispositivo desconhecido|nao reconheco esse saque",
        "fr": "pirate|piratage|on a vole mon compte|retrait non autorise|ce n'est pas moi"
        "|appareil inconnu|change mon mot de passe|acces non autorise|compte pirate",
        "de": "gehackt|konto gestohlen|nicht autorisiert|unbefugt|das war nicht ich"
        "|unbekannten gerat|passwort geandert|hat mein passwort",
        "ar": "اختراق|اخترق|تم اختراق|سرقه حسابي|سرق حسابي"
        "|غير المصادقه|غير الباسورد|غير كلمه المرور|دخل على حسابي|دخل حسابي|انهكر|مخترق|دخول غير مصرح|جهاز غريب",
        "hi": "हैक|अकाउंट चोरी|खाता चोरी"
        "|पासवर्ड बदल|hack ho gaya|account hack|password badal|maine nahi kiya|मैंने नहीं की|मैंने नहीं किया",
        "ja": "乗っ取|ハッキング|不正ログイン|不正アクセス|不正出金"
        "|乗っ取られ|知らない端末|身に覚えのない出金|勝手に出金|無断で出金|パスワードを変えられ",
        "ko": "해킹|도용|무단 출금|무단 로그인"
        "|제가 아니에요|제가 한 출금이 아니|제가 한 게 아니|모르는 기기|비밀번호 바뀌|비밀번호를 바꾸|비밀번호랑 2fa|탈취",
        "th": "แฮก|แฮ็ก|ถูกขโมยบัญชี|ไม่ใช่ผม|ไม่ใช่ฉัน|ไม่ได้ถอนเอง|เครื่องแปลก|เปลี่ยนรหัสผ่าน|ถูกแฮก|โดนแฮก",
        "tl": "na-hack|nahack|na hack|ninakaw ang account"
        "|hindi ako ang nag|may nag login|pinalitan ang password|nagpalit ng password ko",
        "fa": "هك|هك شده|حسابم را دزديدن"
        "|هک|رمز منو عوض|وارد حسابم شد|وارد حسابم شده|کار من نیست|من نبودم|دستگاه ناشناس",
        "ur": "ہيك|هيك|اكاونٹ چوري|ہیک|میں نے نہیں کیا|پاس ورڈ بدل|لاگ ان کیا",
    },
    "fraud_or_scam": {
        "en": "scam|scammer|fraud|cheated|ripped off|fake payment|fake receipt|fake proof|"
        "fake screenshot|stolen|stole",
        "ru": "мошен|обман|кинули|развод|кидала|фейк|поддельн|украли",
        "uk": "шахра|ошукал|обман|кинули|підробл|вкрали",
        "zh": "骗|诈骗|詐騙|骗子|騙子|假截图|假的付款|假凭证|偷",
        "vi": "lua dao|bi lua|gia mao|bien lai gia|an cap",
        "id": "tipu|penipu|penipuan|scam|bukti palsu|dicuri",
        "ms": "tipu|penipu|scam|bukti palsu|dicuri",
        "tr": "dolandir|sahte dekont|sahte odeme|calindi|calinti",
        "es": "estafa|estafaron|estafador|fraude|comprobante falso|enganaron|robaron",
        "pt": "golpe|golpista|fraude|enganado|enganada|comprovante falso|roubaram",
        "fr": "arnaque|escroc|escroquerie|fraude|faux justificatif|vole",
        "de": "betrug|betrogen|betruger|abzocke|gefalscht|gestohlen",
        "ar": "احتيال|نصب|نصاب|محتال|مزور|سرقه",
        "hi": "धोखा|फ्रॉड|ठगी|ठग|नकली",
        "ja": "詐欺|騙さ|偽の|盗まれ",
        "ko": "사기|가짜|훔쳐",
        "th": "โกง|หลอก|มิจฉาชีพ|ปลอม|ขโมย",
        "tl": "naloko|niloko|scam|manloloko|peke",
        "fa": "كلاهبردار|كلاه برداري|تقلب|جعلي|دزديد",
        "ur": "دھوكہ|دھوكه|فراڈ|جعلي|چوري",
    },
    "chargeback": {
        "en": "chargeback|charge back|reversed the payment|payment reversed|bank reversed|"
        "recalled the payment|disputed the payment",
        "ru": "чарджбэк|чарджбек|отозвал платеж|вернул платеж через банк|отменил платеж в банке",
        "uk": "чарджбек|відкликав платіж",
        "zh": "拒付|退单|撤回付款|银行退回",
        "vi": "hoan tien ngan hang|chargeback|doi lai tien",
        "id": "chargeback|pembatalan transaksi oleh bank",
        "ms": "chargeback",
        "tr": "ters ibraz|chargeback|odemeyi geri cekti",
        "es": "contracargo|devolucion bancaria|revirtio el pago",
        "pt": "chargeback|estorno|estornou|contestou o pagamento",
        "fr": "retrofacturation|rejet de paiement|chargeback|a conteste le paiement",
        "de": "ruckbuchung|ruckgebucht|chargeback|lastschrift zuruck",
        "ar": "استرجاع المبلغ من البنك|chargeback",
        "hi": "चार्जबैक",
        "ja": "チャージバック",
        "ko": "지불 거절|차지백",
        "th": "ชาร์จแบ็ก|ชาร์จแบค",
        "tl": "chargeback",
        "fa": "برگشت پرداخت",
        "ur": "چارج بیك",
    },
    "bank_account_frozen": {
        "en": "bank account frozen|bank froze|bank blocked my|bank account blocked|card blocked|"
        "bank account is frozen|bank account has been",
        "ru": "банк заблокировал|заблокировали карту|карту заблокировали|115-фз|115 фз|"
        "счет в банке заблокирован|арестовали счет",
        "uk": "банк заблокував|заблокували картку|картку заблокували",
        "zh": "银行卡被冻结|銀行卡被凍結|银行冻结|卡被冻结|卡被冻|冻卡|凍卡",
        "vi": "ngan hang khoa|ngan hang phong toa|the bi khoa",
        "id": "rekening diblokir|rekening dibekukan|rekening bank saya diblokir|rekening saya diblokir",
        "ms": "akaun bank saya dibekukan|akaun bank dibekukan|akaun bank disekat",
        "tr": "banka hesabim bloke|banka hesabim donduruldu|kartim bloke|banka bloke",
        "es": "banco bloqueo|cuenta bancaria bloqueada|cuenta bancaria congelada|tarjeta bloqueada",
        "pt": "banco bloqueou|conta bancaria bloqueada|pix bloqueado|cartao bloqueado",
        "fr": "banque a bloque|compte bancaire bloque|carte bloquee",
        "de": "bank hat gesperrt|bankkonto gesperrt|karte gesperrt",
        "ar": "البنك جمد|حسابي البنكي|تجميد الحساب البنكي|البنك اوقف",
        "hi": "बैंक खाता फ्रीज|बैंक ने खाता|बैंक अकाउंट फ्रीज",
        "ja": "銀行口座が凍結|口座凍結|口座が凍結",
        "ko": "계좌 정지|계좌가 정지|지급정지|계좌 동결",
        "th": "บัญชีธนาคารถูกอายัด|ธนาคารอายัด|อายัดบัญชี",
        "tl": "na-freeze ang bank|bank account ko na-freeze",
        "fa": "حساب بانكي مسدود|بانك مسدود",
        "ur": "بینك اكاؤنٹ بند|بینك نے اكاؤنٹ",
    },
    "cancelled_after_payment": {
        "en": "cancelled after|canceled after|cancel after i paid|cancelled the order after|"
        "order cancelled but i paid|order was cancelled|order got cancelled|timer expired",
        "ru": "отменил после оплаты|отменили после оплаты|ордер отменен|сделка отменена|"
        "отменилась после оплаты|время вышло",
        "uk": "скасував після оплати|скасували після оплати|ордер скасовано",
        "zh": "付款后取消|付款後取消|订单被取消|訂單被取消|取消了订单|取消了訂單",
        "vi": "huy don|huy sau khi|don bi huy",
        "id": "dibatalkan setelah|membatalkan setelah|order dibatalkan|pesanan dibatalkan",
        "ms": "batalkan selepas|dibatalkan selepas|pesanan dibatalkan",
        "tr": "odemeden sonra iptal|iptal etti|siparis iptal",
        "es": "cancelo despues|cancelada despues|orden cancelada|cancelaron la orden",
        "pt": "cancelou depois|cancelada depois|ordem cancelada|pedido cancelado",
        "fr": "annule apres|commande annulee|ordre annule",
        "de": "nach zahlung storniert|nach der zahlung storniert|auftrag storniert|order storniert",
        "ar": "الغي بعد الدفع|الغى بعد الدفع|تم الغاء الطلب",
        "hi": "भुगतान के बाद रद्द|ऑर्डर रद्द|रद्द कर दिया",
        "ja": "支払い後にキャンセル|注文がキャンセル|キャンセルされ",
        "ko": "결제 후 취소|주문이 취소|취소했어요|취소됐",
        "th": "ยกเลิกหลัง|ยกเลิกออเดอร์|ออเดอร์ถูกยกเลิก",
        "tl": "kinansela|na-cancel|nacancel",
        "fa": "بعد از پرداخت لغو|سفارش را لغو|لغو كرد",
        "ur": "ادائیگی كے بعد منسوخ|آرڈر منسوخ|منسوخ كر دیا",
    },
    "third_party_payment": {
        "en": "third party|third-party|paid from another account|different name|"
        "name does not match|name doesn't match|someone else paid|not the account holder",
        "ru": "третье лицо|третьего лица|с чужой карты|чужой карты|другое имя|имя не совпадает|"
        "не совпадает фио",
        "uk": "третя особа|з чужої картки|ім'я не збігається",
        "zh": "第三方|名字不一致|姓名不符|别人付款|他人代付",
        "vi": "ben thu ba|ten khong khop|nguoi khac chuyen",
        "id": "pihak ketiga|nama tidak sesuai|nama berbeda|rekening orang lain",
        "ms": "pihak ketiga|nama tidak sama",
        "tr": "ucuncu sahis|baska birinin hesabindan|isim uyusmuyor",
        "es": "tercero|terceros|otro titular|nombre no coincide",
        "pt": "terceiro|terceiros|outro titular|nome diferente|nome nao confere",
        "fr": "tiers|autre titulaire|nom ne correspond pas",
        "de": "dritter|drittperson|anderer name|name stimmt nicht",
        "ar": "طرف ثالث|اسم مختلف|الاسم لا يطابق",
        "hi": "तीसरे व्यक्ति|नाम मेल नहीं",
        "ja": "第三者|名義が違|名義が異な",
        "ko": "제3자|명의가 달|이름이 달",
        "th": "บุคคลที่สาม|ชื่อไม่ตรง",
        "tl": "ibang pangalan|third party",
        "fa": "شخص ثالث|اسم متفاوت",
        "ur": "تیسرے فریق|نام مختلف",
    },
    "amount_mismatch": {
        "en": "wrong amount|amount mismatch|amount is wrong|paid less|paid more|sent less|"
        "sent more|short paid|underpaid|overpaid|partial payment|not the full amount|"
        "amount does not match|amount doesn't match",
        "ru": "не та сумма|неверная сумма|сумма не совпадает|меньше суммы|недоплат|переплат|"
        "отправил больше|отправил меньше|не полную сумму",
        "uk": "не та сума|сума не збігається|недоплат|переплат",
        "zh": "金额不对|金額不對|金额不符|少付|多付|少转|多转|少打",
        "vi": "sai so tien|thieu tien|chuyen thieu|chuyen du|chuyen nham so tien",
        "id": "jumlah salah|nominal salah|kurang bayar|lebih bayar|transfer kurang|transfer lebih",
        "ms": "jumlah salah|kurang bayar|terlebih bayar",
        "tr": "yanlis tutar|eksik odeme|fazla odeme|tutar uyusmuyor|eksik gonder|fazla gonder",
        "es": "monto incorrecto|cantidad incorrecta|pago de menos|pago de mas|pago incompleto",
        "pt": "valor errado|valor diferente|pagou a menos|pagou a mais|valor incorreto",
        "fr": "mauvais montant|montant incorrect|paye moins|paye plus|montant ne correspond",
        "de": "falscher betrag|betrag stimmt nicht|zu wenig bezahlt|zu viel bezahlt|teilzahlung",
        "ar": "مبلغ خاطئ|المبلغ غير صحيح|مبلغ ناقص|مبلغ زائد",
        "hi": "गलत राशि|कम पैसे|ज्यादा पैसे",
        "ja": "金額が違|金額が合わ|不足|過払い",
        "ko": "금액이 달|금액이 틀|덜 보냈|더 보냈|금액 불일치",
        "th": "ยอดไม่ตรง|จำนวนเงินไม่ถูก|โอนขาด|โอนเกิน",
        "tl": "kulang ang bayad|sobra ang bayad|maling halaga",
        "fa": "مبلغ اشتباه|مبلغ كمتر|مبلغ بیشتر",
        "ur": "غلط رقم|كم رقم|زیادہ رقم",
    },
    "crypto_not_released": {
        "en": "not released|didn't release|did not release|doesn't release|does not release|"
        "won't release|not releasing|release my|release the crypto|release the coin|"
        "release usdt|haven't received my usdt|have not received my usdt|didn't get my usdt|"
        "no crypto|crypto not received|coins not received|seller is not responding|"
        "seller not responding|seller ignoring",
        "ru": "не отпуска|не отпустил|не релизит|не отдает крипт|не отдает usdt|не получил usdt|"
        "не получил крипт|продавец не отвечает|продавец молчит|не разморозил|не прислал крипт",
        "uk": "не відпуска|не відпустив|не отримав usdt|продавець не відповідає|продавець мовчить",
        "zh": "不放币|不放幣|没放币|沒放幣|未放币|未放幣|卖家不放|賣家不放|币没到|幣沒到|没收到币|"
        "沒收到幣|卖家不回|賣家不回",
        "vi": "khong tha coin|chua tha coin|khong nha coin|chua nha coin|chua nhan duoc coin|"
        "chua nhan duoc usdt|nguoi ban khong tha|nguoi ban khong phan hoi",
        "id": "belum rilis|tidak rilis|belum release|tidak release|belum dilepas|koin belum masuk|"
        "usdt belum masuk|penjual tidak respon|penjual tidak merespon",
        "ms": "tak lepaskan|belum lepaskan|tidak lepaskan|syiling belum masuk|usdt belum masuk|"
        "penjual tak balas",
        "tr": "birakmiyor|birakmadi|serbest birakmadi|kriptomu alamadim|usdt gelmedi|"
        "satici cevap vermiyor",
        "es": "no libera|no libero|no ha liberado|no me libera|liberar mis|no recibi mis usdt|"
        "no recibi las criptos|vendedor no responde",
        "pt": "nao liberou|nao libera|nao liberado|liberar minhas|nao recebi minhas usdt|"
        "nao recebi as criptos|vendedor nao responde",
        "fr": "ne libere pas|pas libere|n'a pas libere|liberer mes|pas recu mes usdt|"
        "vendeur ne repond pas",
        "de": "gibt nicht frei|nicht freigegeben|nicht freigeben|keine usdt erhalten|"
        "verkaufer antwortet nicht",
        "ar": "لم يحرر|لا يحرر|لم يفرج|لم يطلق|لم استلم العمله|البائع لا يرد",
        "hi": "नहीं छोड़ा|रिलीज नहीं|क्रिप्टो नहीं मिला|विक्रेता जवाब नहीं",
        "ja": "解放しない|解放されない|リリースしない|リリースされない|コインが届かない|売り手が返信しない",
        "ko": "코인을 안 보내|코인이 안 들어|코인 안 보내|판매자가 답이 없|릴리즈 안",
        "th": "ไม่ปล่อยเหรียญ|ไม่ปล่อย|ยังไม่ได้เหรียญ|ผู้ขายไม่ตอบ",
        "tl": "hindi pa nire-release|hindi nirelease|hindi pa rinelease|di pa release|"
        "wala pa ang crypto",
        "fa": "آزاد نكرد|آزاد نمی كند|ارز را آزاد|هنوز ارز نرسیده",
        "ur": "كرپٹو جاری نہیں|كرپٹو نہیں دیا|كرپٹو نہیں ملا|ریلیز نہیں",
    },
    "payment_not_received": {
        "en": "payment not received|not received the payment|haven't received the payment|"
        "didn't receive the payment|did not receive payment|money not received|no money|"
        "didn't get paid|did not get paid|buyer did not pay|buyer didn't pay|not received yet|"
        "money didn't arrive|money did not arrive|where is my money|payment not arrived",
        "ru": "деньги не пришли|не пришли деньги|оплата не пришла|не получил оплату|"
        "не получил деньги|денег нет|где мои деньги|покупатель не оплатил|не поступили",
        "uk": "гроші не надійшли|гроші не прийшли|не отримав оплату|де мої гроші|покупець не оплатив",
        "zh": "没收到钱|沒收到錢|钱没到|錢沒到|钱还没到|錢還沒到|没到账|沒到賬|未到账|未收到付款|"
        "对方没付款|買家沒付款|买家没付款",
        "vi": "chua nhan duoc tien|khong nhan duoc tien|tien chua ve|chua ve tien|"
        "nguoi mua chua chuyen|tien chua vao",
        "id": "uang belum masuk|uangnya belum masuk|dana belum masuk|belum terima uang|"
        "belum menerima pembayaran|pembeli belum bayar|belum diterima",
        "ms": "duit belum masuk|wang belum masuk|belum terima duit|belum terima bayaran|"
        "pembeli belum bayar",
        "tr": "para gelmedi|param gelmedi|param hala gelmedi|odeme gelmedi|odeme almadim|"
        "alici odemedi|para yatmadi",
        "es": "no me llego el dinero|no llego el pago|no recibi el pago|no recibi el dinero|"
        "donde esta mi dinero|comprador no pago|no me ha llegado",
        "pt": "dinheiro nao caiu|nao caiu|nao recebi o pagamento|nao recebi o dinheiro|"
        "pix nao caiu|comprador nao pagou|cade meu dinheiro",
        "fr": "rien recu|pas recu le paiement|pas recu l'argent|paiement non recu|"
        "argent pas arrive|acheteur n'a pas paye",
        "de": "geld nicht angekommen|geld ist nicht angekommen|zahlung nicht erhalten|"
        "kein geld erhalten|kaufer hat nicht bezahlt|wo ist mein geld",
        "ar": "لم يصلني المبلغ|لم يصل المبلغ|لم استلم المبلغ|لم استلم الدفع|المشتري لم يدفع|"
        "اين اموالي",
        "hi": "पैसा नहीं आया|पैसे नहीं आए|पैसा नहीं मिला|पैसे नहीं मिले|भुगतान नहीं मिला|पैसा अभी तक नहीं",
        "ja": "お金が届|入金されない|入金がない|入金されていない|支払いが届|受け取っていません",
        "ko": "돈이 안 들어|돈이 아직 안|입금이 안|입금 안 됐|돈을 못 받",
        "th": "เงินยังไม่เข้า|ยังไม่ได้รับเงิน|เงินไม่เข้า|ผู้ซื้อยังไม่โอน",
        "tl": "wala pa yung pera|wala pa po yung pera|wala pa po ang pera|hindi pa po pumapasok|wala pa ang pera|hindi ko natanggap ang bayad|hindi pa nagbabayad",
        "fa": "پولم نرسیده|پول نرسیده|پول را دریافت نكردم|پرداخت نرسیده|هنوز نرسیده",
        "ur": "پیسے نہیں ملے|رقم نہیں ملی|ادائیگی نہیں ملی|پیسے ابھی تك نہیں",
    },
    "account_frozen": {
        "en": "account frozen|account is frozen|account blocked|account is blocked|account suspended|"
        "account locked|account restricted|can't withdraw|cannot withdraw|withdrawal disabled|"
        "withdrawal suspended",
        "ru": "аккаунт заблокирован|заблокировали аккаунт|аккаунт заморожен|ограничили аккаунт|"
        "не могу вывести|вывод заблокирован|мой аккаунт заблок",
        "uk": "акаунт заблоковано|рахунок заблокували|мій рахунок заблок|не можу вивести",
        "zh": "账户被冻结|帳戶被凍結|账号被冻结|帳號被凍結|账户冻结|账户被限制|无法提现|無法提現|"
        "账户被封|帳戶被封",
        "vi": "tai khoan bi khoa|tai khoan bi dong bang|khong rut duoc|bi han che",
        "id": "akun dibekukan|akun saya dibekukan|akun diblokir|akun dikunci|tidak bisa tarik|"
        "tidak bisa withdraw",
        "ms": "akaun dibekukan|akaun saya dibekukan|akaun disekat|tak boleh keluarkan",
        "tr": "hesabim donduruldu|hesabim kilitlendi|hesabim bloke|hesap donduruldu|cekim yapamiyorum",
        "es": "cuenta bloqueada|cuenta congelada|cuenta suspendida|no puedo retirar",
        "pt": "conta bloqueada|conta congelada|conta suspensa|nao consigo sacar",
        "fr": "compte bloque|compte gele|compte suspendu|impossible de retirer",
        "de": "konto gesperrt|konto ist gesperrt|konto eingefroren|kann nicht abheben",
        "ar": "حسابي مجمد|تم تجميد حسابي|الحساب مقفل|حسابي موقوف|لا استطيع السحب",
        "hi": "खाता बंद|खाता फ्रीज|अकाउंट ब्लॉक|अकाउंट फ्रीज|पैसे नहीं निकाल",
        "ja": "アカウントが凍結|アカウント凍結|アカウントがロック|出金できない",
        "ko": "계정이 정지|계정 정지|계정이 잠|출금이 안",
        "th": "บัญชีถูกระงับ|บัญชีถูกล็อก|ถอนไม่ได้",
        "tl": "na-freeze ang account|naka-freeze|na-block ang account|hindi maka-withdraw",
        "fa": "حساب من مسدود|حسابم مسدود|حساب مسدود|نمی توانم برداشت",
        "ur": "اكاؤنٹ بند|اكاؤنٹ بلاك|اكاؤنٹ منجمد",
    },
}

# When several categories match, the first in this order wins: theft before late money.
CATEGORY_ORDER: tuple[str, ...] = (
    "account_takeover",
    "fraud_or_scam",
    "chargeback",
    "bank_account_frozen",
    "cancelled_after_payment",
    "third_party_payment",
    "amount_mismatch",
    "crypto_not_released",
    "payment_not_received",
    "account_frozen",
)

# Words that say "now": raise severity one step (never past high on their own).
URGENT_PHRASES: dict[str, str] = {
    "en": "urgent|urgently|asap|emergency|immediately|right now",
    "ru": "срочно|срочн|немедленно",
    "uk": "терміново|негайно",
    "zh": "紧急|緊急|急|马上|馬上|尽快|盡快",
    "vi": "gap|khan cap|ngay lap tuc",
    "id": "segera|cepat|darurat",
    "ms": "segera|cepat|kecemasan",
    "tr": "acil|hemen|acilen",
    "es": "urgente|inmediato",
    "pt": "urgente|imediato",
    "fr": "urgent|urgence|immediatement",
    "de": "dringend|sofort|notfall",
    "ar": "عاجل|بسرعه|فورا",
    "hi": "जल्दी|तुरंत|अर्जेंट",
    "ja": "至急|緊急|すぐに",
    "ko": "급해|빨리|긴급",
    "th": "ด่วน",
    "tl": "agad|urgent",
    "fa": "فوري|سريع",
    "ur": "جلدي|فوري",
}

# A message that only thanks or asks how something works: low, if nothing else matched.
LOW_PHRASES: dict[str, str] = {
    "en": "thank you|thanks|how do i|how to|question about|just asking|feedback",
    "ru": "спасибо|благодарю|как мне|вопрос",
    "uk": "дякую|як мені|питання",
    "zh": "谢谢|謝謝|请问|請問|怎么|怎麼",
    "vi": "cam on|xin hoi|lam sao",
    "id": "terima kasih|makasih|mau tanya|bagaimana cara",
    "ms": "terima kasih|nak tanya|macam mana",
    "tr": "tesekkur|sagol|nasil yapilir|bir sorum",
    "es": "gracias|como puedo|una pregunta",
    "pt": "obrigad|valeu|como faco|uma duvida",
    "fr": "merci|comment faire|une question",
    "de": "danke|vielen dank|wie kann ich|eine frage",
    "ar": "شكرا|كيف يمكنني|سؤال",
    "hi": "धन्यवाद|शुक्रिया|कैसे करें",
    "ja": "ありがとう|質問|どうやって",
    "ko": "감사|고맙|질문|어떻게",
    "th": "ขอบคุณ|สอบถาม|ทำยังไง",
    "tl": "salamat|paano po|tanong lang",
    "fa": "ممنون|مرسي|سوال",
    "ur": "شكريہ|شكريه|سوال",
}
