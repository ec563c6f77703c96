# ruff: noqa: RUF001, RUF003, E501  (phrases in many scripts; one language a line reads best)
"""Whether the crypto already left the seller, in the desk's languages: what
`triage.RELEASED_RULE` reads (`features.release_reading`).

Not category lists: the triage model never read these. Matched as the category lists are
(`classify.normalise`, a spaced phrase at a word start, an unspaced one anywhere), but
exactly, never with typos, and a released phrase only counts when no guard of
`RELEASE_GUARDS` touches it.
"""

from __future__ import annotations

# "The crypto already left me": the seller (or a victim) saying, in the first person, that
# they released, sent or transferred the coins. A scam where this happened is critical
# (`triage.RELEASED_RULE`). Not a category list: the triage model never read these. Past
# first-person forms only ("liberei", not "liberar"), so "should I release" and "do not
# release" never match; negations and questions around a match are `RELEASE_GUARDS`.
RELEASED_PHRASES: dict[str, str] = {
    "en": "i released|i have released|i've released|ive released|i already released|i just released|"
    "i had released|i did release|i then released|and then released|then i released|and i released|"
    "so i released|"
    "i sent the usdt|i sent the coins|i sent the crypto|i sent usdt|i sent my usdt|i sent him the usdt|"
    "i transferred the usdt|i transferred usdt|i transferred the crypto|i transferred the coins|"
    "i confirmed the release|i confirmed release|i clicked release|i pressed release|i hit release|"
    "released my|released the|already released|released it|coin already released|coins already released|released",
    "pt": "liberei|ja liberei|eu liberei|soltei as|soltei os|soltei a cripto|enviei as usdt|enviei os usdt|"
    "enviei a cripto|enviei as criptos|enviei o usdt|transferi os usdt|transferi as usdt|transferi o usdt|"
    "confirmei a liberacao|cliquei em liberar|"
    "soltei|mandei as usdt|mandei os usdt",
    "es": "ya libere|yo libere|libere los|libere las|libere el usdt|libere la cripto|libere las criptos|"
    "y libere|entonces libere|le libere|ya le libere|envie los usdt|envie las usdt|envie el usdt|"
    "envie la cripto|transferi los usdt|transferi el usdt|solte los usdt|confirme la liberacion|"
    "di clic en liberar|ya solte|"
    "libere|solte",
    "fr": "j'ai libere|jai libere|j'ai deja libere|jai deja libere|j'ai envoye les usdt|jai envoye les usdt|"
    "j'ai envoye mes usdt|j'ai envoye la crypto|j'ai envoye les cryptos|j'ai transfere les usdt|"
    "j'ai transfere mes usdt|j'ai confirme la liberation|j'ai valide la liberation|j'ai debloque les usdt|"
    "et j'ai libere|puis libere|"
    "libere mes|libere les|et libere",
    "de": "ich habe freigegeben|ich hab freigegeben|habe die usdt freigegeben|hab die usdt freigegeben|"
    "habe die coins freigegeben|hab die coins freigegeben|habe die krypto freigegeben|usdt freigegeben|"
    "coins freigegeben|krypto freigegeben|schon freigegeben|bereits freigegeben|freigegeben habe|"
    "ich habe sie freigegeben|hab sie freigegeben|habe die usdt gesendet|habe die usdt geschickt|"
    "habe die coins geschickt|habe die coins gesendet|usdt uberwiesen|freigabe bestatigt|gab die coins frei|"
    "gab die usdt frei|"
    "freigegeben",
    "ru": "я отпустил|уже отпустил|отпустил usdt|отпустил монет|отпустил крипт|отпустил юсдт|я отправил usdt|"
    "отправил usdt|отправил крипт|отправил монет|я перевел usdt|перевел usdt|перевел крипт|"
    "подтвердил отпуск|подтвердил релиз|зарелизил|релизнул|я отдал usdt|отдал монеты|отдал крипт|"
    "отпустил|otpustil|ya otpustil",
    "uk": "я відпустив|вже відпустив|відпустив usdt|відпустив монет|відпустив крипт|я відправив usdt|"
    "відправив usdt|відправив монет|відправив крипт|переказав usdt|переказав крипт|підтвердив реліз|"
    "відпустив|відпустила",
    "zh": "我放币|我已放币|已经放币|已放币|放币了|我放了币|放了币|币已放|我放行|已放行|放行了|币放了|"
    "我把币放|我转了usdt|已转币|转了币|确认放币了|点了放币|点击了放币|我放幣|已放幣|已經放幣|放幣了|"
    "放了幣|幣已放|我把幣放|點了放幣|我把usdt转|我把usdt放|"
    "已经放|就放了|放了",
    "ja": "リリースしました|リリースした|解放しました|解放した|コインを送りました|コインを送った|"
    "usdtを送りました|usdtを送った|暗号資産を送りました|仮想通貨を送りました|リリースボタンを押し|"
    "解放ボタンを押し|放出しました|送付済み|リリース済み|"
    "リリースしてしま|リリースしちゃ|解放してしま|解放しちゃ|放出してしま|放出しちゃ|渡してしま|渡しちゃ",
    "ko": "코인을 보냈|코인 보냈|usdt 보냈|usdt를 보냈|테더 보냈|테더를 보냈|릴리즈했|릴리즈 했|릴리스했|"
    "릴리스 했|풀어줬|풀어 줬|풀어드렸|코인을 풀었|코인 풀었|이미 보냈|코인을 전송했|코인 전송했|"
    "usdt 전송했|해제했|해제 했|"
    "풀었|풀어줌|넘겼|보내버|풀어버",
    "vi": "toi da tha|da tha coin|tha coin roi|da nha coin|nha coin roi|da tha usdt|tha usdt roi|"
    "da chuyen usdt|chuyen usdt roi|da chuyen coin|chuyen coin roi|da release|release roi|"
    "da xac nhan tha|em tha coin roi|minh da tha|da nha usdt|nha usdt roi|"
    "toi tha|minh tha|em tha|tha usdt|tha coin|nha usdt|nha coin|giai phong|tha xong|nha xong",
    "id": "sudah saya rilis|saya sudah rilis|sudah saya release|saya sudah release|saya sudah lepas|"
    "sudah saya lepas|saya sudah kirim usdt|sudah kirim usdt|saya sudah transfer usdt|udah rilis|udah release|sy sudah rilis|sy udah rilis|aku udah rilis|"
    "sudah saya kirim usdt|saya udah kirim usdt|udah kirim usdt|usdt sudah saya kirim|koin sudah saya|"
    "saya rilis|sy rilis|saya release|sy release|udah saya lepas|lepas koin|rilis koin|rilis usdt|terlanjur rilis|terlanjur lepas",
    "ms": "saya sudah lepaskan|saya dah lepaskan|dah lepaskan|sudah lepaskan|saya lepaskan usdt|dah release|"
    "saya dah release|saya dah hantar usdt|dah hantar usdt|sudah hantar usdt|saya hantar usdt|"
    "saya dah pindahkan usdt|dah pindah usdt|"
    "saya release|lepaskan coin|lepaskan usdt|lepaskan koin",
    "tr": "serbest biraktim|biraktim|usdt yi gonderdim|usdt'yi gonderdim|usdtyi gonderdim|usdt gonderdim|"
    "coinleri gonderdim|kriptoyu gonderdim|kriptolari gonderdim|coin gonderdim|coini gonderdim|"
    "release ettim|serbest biraktik|onayi verdim|"
    "saldim|usdt yi verdim|usdt'yi verdim|usdtyi verdim|coinleri verdim|coin verdim|kriptoyu verdim",
    "ar": "حررت العملات|حررت العمله|حررت usdt|حررت الusdt|انا حررت|قمت بتحرير|ارسلت العملات|"
    "ارسلت usdt|ارسلت الusdt|ارسلت العمله|حولت usdt|حولت الusdt|حولت العملات|افرجت عن|اطلقت العملات|"
    "حررت له|وحررت|"
    "حررت|فحررت",
    "fa": "آزاد کردم|ارز را آزاد کردم|ارز رو آزاد کردم|آزادش کردم|رها کردم|تتر را فرستادم|تتر رو فرستادم|"
    "تتر فرستادم|ارز را فرستادم|ارز رو فرستادم|ریلیز کردم|تتر را انتقال دادم|تتر رو انتقال دادم|"
    "ول کردم|تتر را منتقل کردم|"
    "azad kardam|tether ferestadam|tether ro ferestadam|azadesh kardam|بعد از آزاد کردن",
    "hi": "मैंने रिलीज़ कर दिया|रिलीज़ कर दिया|रिलीज कर दिया|रिलीज़ कर दी|रिलीज कर दी|मैंने क्रिप्टो भेज|"
    "क्रिप्टो भेज दी|क्रिप्टो भेज दिया|usdt भेज दिया|usdt भेज दी|मैंने usdt भेज|कॉइन भेज दिए|"
    "maine release kar|release kar diya|release kar di|usdt bhej diya|usdt bhej di|maine usdt bhej|"
    "crypto bhej diya|crypto bhej di|release kar diye|"
    "chhod diye|chhod diya|chod diye|chod diya|छोड़ दिए|छोड़ दिया|छोड़ दी|release kiya|रिलीज किया|रिलीज़ किया",
    "ur": "میں نے ریلیز کر|ریلیز کر دیا|ریلیز کر دی|کرپٹو بھیج دی|کرپٹو بھیج دیا|usdt بھیج دیا|"
    "usdt بھیج دی|کوائن بھیج دیے|جاری کر دیا|جاری کر دی|میں نے usdt بھیج|"
    "چھوڑ دیے|چھوڑ دیا|چھوڑ دی|ریلیز کیا|ریلیز کر دیے",
    "th": "ปล่อยเหรียญแล้ว|ปล่อยเหรียญไปแล้ว|ผมปล่อยเหรียญ|ฉันปล่อยเหรียญ|ปล่อยไปแล้ว|ปล่อยusdtแล้ว|"
    "ปล่อย usdt แล้ว|ปล่อยusdtไปแล้ว|ปล่อย usdt ไปแล้ว|โอนเหรียญแล้ว|โอนเหรียญไปแล้ว|โอน usdt แล้ว|"
    "โอนusdtไปแล้ว|โอน usdt ไปแล้ว|กดปล่อยเหรียญ|กดปล่อยแล้ว|ยืนยันการปล่อย|ปล่อยคริปโตแล้ว|"
    "กดปล่อย usdt|กดปล่อยusdt|ปล่อยเหรียญ|ปล่อย usdt|ปล่อยusdt",
    "tl": "na-release ko na|nirelease ko na|ni-release ko na|na release ko na|nirelease ko|ni-release ko|"
    "nai-release ko|nag-release na ako|nagrelease na ako|nag release na ako|naipadala ko na ang usdt|"
    "pinadala ko na ang usdt|pinadala ko ang usdt|sinend ko na ang usdt|binitawan ko na|"
    "ipinadala ko na ang usdt|na-send ko na ang usdt|"
    "sinend ko|na-send ko",
}

# The seller saying the crypto has NOT left yet ("I have not released, the receipt looks
# fake"): a scam before money moved, high (`triage.RELEASED_RULE`). First person only:
# "the seller has not released" is a buyer's late release, not this.
NOT_RELEASED_PHRASES: dict[str, str] = {
    "en": "i have not released|i haven't released|i havent released|i did not release|i didn't release|"
    "i didnt release|i did not release|i have not released|i won't release|i wont release|"
    "not releasing until|i am not releasing|i'm not releasing|im not releasing|i have not sent the usdt|"
    "i haven't sent the usdt|i didn't send the usdt|i didnt send the usdt|i did not send the usdt|"
    "i still have the usdt|havent released yet|haven't released yet|not released yet, i",
    "pt": "nao liberei|ainda nao liberei|eu nao liberei|n liberei|nao soltei|nao enviei as usdt|"
    "nao enviei os usdt|ainda nao soltei",
    "es": "no he liberado|no libere|todavia no libere|aun no libere|todavia no he liberado|"
    "aun no he liberado|no he soltado|no solte|no envie los usdt|no envie las usdt",
    "fr": "je n'ai pas libere|j'ai pas libere|jai pas libere|je n'ai pas encore libere|"
    "pas encore libere|je n'ai rien libere|je ne libere pas|j'ai pas encore libere",
    "de": "habe noch nicht freigegeben|hab noch nicht freigegeben|habe nicht freigegeben|"
    "hab nicht freigegeben|hab noch nichts freigegeben|habe noch nichts freigegeben|"
    "ich gebe nicht frei|ich gebe noch nicht frei",
    "ru": "я не отпустил|я не отпускал|я еще не отпустил|я пока не отпустил|пока не отпускаю|"
    "я не отпускаю|я еще не отпускал|я не отправил usdt|я не отправлял",
    "uk": "я не відпустив|я не відпускав|я ще не відпустив|я ще не відпускав|поки не відпускаю|"
    "я не відпускаю",
    "zh": "我还没放|我還沒放|我没放|我沒放|我没有放|我沒有放|我未放|我暂时没放|我暫時沒放|我先不放|"
    "我不敢放|币还在我这|幣還在我這",
    "ja": "まだリリースしていません|まだリリースしてない|リリースはしていません|リリースはしてない|"
    "まだ解放していません|まだ解放してない|解放はしていません|解放はしてない|放出はしてない|"
    "放出はしていません|まだ送っていません|まだ送ってない",
    "ko": "아직 안 풀었|아직 안풀었|아직 안 풀어|아직 안풀어|코인 안 보냈|아직 안 보냈|"
    "아직 코인 안|아직 usdt 안|아직 릴리즈 안",
    "vi": "toi chua tha|em chua tha|minh chua tha|toi chua nha coin|em chua nha coin|minh chua nha coin|"
    "toi van chua tha|em van chua tha|chua tha dau|toi khong tha|em khong tha",
    "id": "saya belum rilis|belum saya rilis|sy belum rilis|saya belum release|belum saya release|"
    "saya belum lepas|belum saya lepas|saya belum kirim usdt|aku belum rilis",
    "ms": "saya belum release|saya belum lepaskan|saya tak lepas|coin saya tak lepas|saya belum lepas|"
    "saya tak release|saya belum hantar usdt",
    "tr": "serbest birakmadim|birakmadim|henuz birakmadim|usdt yi gondermedim|usdt'yi gondermedim|"
    "coinleri gondermedim|coinleri birakmadim",
    "ar": "ما حررت|لسه ما حررت|للحين ما حررت|لم احرر|انا لم احرر|لم اقم بتحرير|ما سلمت العملات|"
    "لم ارسل العملات",
    "fa": "آزاد نکردم|هنوز آزاد نکردم|ارز رو آزاد نکردم|تتر رو نفرستادم|تتر را نفرستادم|ریلیز نکردم",
    "hi": "मैंने रिलीज़ नहीं किया|मैंने अभी रिलीज़ नहीं किया|मैंने रिलीज नहीं किया|"
    "मैंने अभी रिलीज नहीं किया|maine release nahi kiya|maine abhi release nahi kiya|"
    "abhi release nahi kiya|release nahi kiya hai",
    "ur": "میں نے ریلیز نہیں کیا|میں نے ابھی ریلیز نہیں کیا|ابھی ریلیز نہیں کیا|میں نے کوائن نہیں چھوڑے",
    "th": "ผมยังไม่ได้ปล่อย|ฉันยังไม่ได้ปล่อย|ผมยังไม่ปล่อย|ฉันยังไม่ปล่อย|ยังไม่ได้ปล่อยเหรียญ|"
    "เรายังไม่ได้ปล่อย|หนูยังไม่ได้ปล่อย",
    "tl": "hindi ko pa nirelease|hindi ko pa nire-release|di ko pa nirelease|hindi ko pa nirerelease|"
    "hindi ko pa na-release|hindi ko pa pinapadala",
}

# The payment proof was fake: with a `RELEASED_PHRASES` match it moves a "payment not
# received" to a critical scam (`triage.RELEASED_FAKE_PROOF`).
FAKE_PROOF_PHRASES: dict[str, str] = {
    "en": "fake|edited|photoshop|forged|doctored|fabricated|not real|counterfeit",
    "pt": "falso|falsa|editado|editada|adulterado|montagem|fake",
    "es": "falso|falsa|editado|editada|photoshop|trucho|trucha|adulterado",
    "fr": "faux|fausse|modifie|retouche|falsifie|trafique",
    "de": "gefalscht|bearbeitet|manipuliert|fake",
    "ru": "поддельн|фейк|нарисован|липов|фальшив|подделк|отредактирован|фотошоп",
    "uk": "підробл|фейк|фальшив|фотошоп|відредагован",
    "zh": "假|p图|p的|ps的|伪造|偽造|修改过|改过的",
    "ja": "偽|加工|改ざん|フェイク|捏造",
    "ko": "가짜|조작|위조|포토샵|편집",
    "vi": "gia mao|bill gia|bien lai gia|anh gia|chinh sua|fake|lam gia",
    "id": "palsu|editan|diedit|hasil edit|rekayasa",
    "ms": "palsu|diedit|edit|tipu",
    "tr": "sahte|photoshop|duzenlenmis|montaj",
    "ar": "مزور|معدل|مزيف|مفبرك|وهمي",
    "fa": "جعلی|ساختگی|فتوشاپ|فیک|تقلبی",
    "hi": "नकली|फर्जी|फ़र्ज़ी|एडिट|nakli|farzi|edit",
    "ur": "جعلی|ایڈٹ|نقلی|فرضی",
    "th": "ปลอม|ตัดต่อ|แต่ง|ปลอมแปลง",
    "tl": "peke|edited|fake|inedit",
}

# Around a `RELEASED_PHRASES` match, what says it did not happen (any language: a guard
# of one never reads as a release of another).
RELEASE_GUARDS: dict[str, str] = {
    # The word right before the match (over "yet", "still", ...): a negation, a plan or a
    # request. Korean "안", Thai "ไม่" and Chinese "没" negate before the verb too;
    # Japanese, Turkish, Persian, Hindi and Urdu negate inside it ("リリースしていない",
    # "bırakmadım", "آزاد نکردم", "रिलीज़ नहीं किया"), which the past forms above never match.
    "before": "not|never|didn't|didnt|haven't|havent|hasn't|hasnt|don't|dont|won't|wont|cannot|"
    "can't|cant|should|shall|before|if|without|nao|n|nem|nunca|antes|sem|no|ni|sin|que|para|pas|"
    "ne|jamais|avant|nicht|nie|kein|bevor|не|ни|перед|ні|chua|khong|ko|k|dung|truoc|belum|blm|"
    "tidak|tdk|gak|ga|nggak|enggak|jangan|sebelum|tak|x|apakah|haruskah|harus|kapan|mau|akan|boleh|"
    "bisa|hindi|wag|huwag|"
    "bago|be|been|is|was|were|got|get|being|je|rien|nada|nothing|nichts|"
    "ничего|нічого|de|cara|how|como|comment|wie|как|як|nen|doi|hoi|giuc|bat|chiu|dam|lam|"
    "لم|لا|ما|لن|قبل|نه|نمی|नहीं|नही|मत|nahi|nahin|mat|نہیں|مت|안|못|"
    "没|沒|未|不|没有|沒有|别|別|不要|不能|要|让|讓|叫|催|等|ไม่|ไม่ได้|ไม่ยอม|อย่า|ก่อน|ให้|ต้อง|ควร|จะ|ค่อย|ขอ",
    # Words that stand between a negation and the verb: "ainda não liberei", "no usdt
    # released".
    "filler": "usdt|coin|coins|crypto|koin|yet|still|even|ainda|aun|todavia|encore|noch|еще|ще|아직|pa|po|masih|lagi|van|hala|"
    "henuz|ever|really|actually",
    # Right after the match: a question, a condition or a request ("đã thả coin chưa",
    # "放币了吗", "보냈나요", "sudah rilis belum", "リリースしたい", "y liberen", "कर दीजिए").
    "after": " chua| khong| ko| belum| blm| kah| mi| mu| kya| क्या|吗|嗎|么|之前|前|หรือยัง|ไหม|"
    "มั้ย|ยังไง|ได้ไหม|ได้มั้ย|ได้หรือ|나요|냐|니|으면|다면|い|ほう|方|n|r|z| duoc|jiye|jie|जि|ں|جی|جئ",
    # Two words that look like a negation and are not: "بعد ما حررت" is "after I released".
    "not_negation": "بعد ما|لما",
}
# Languages whose released phrases end where a word ends: a Vietnamese syllable is a word
# ("đã thả" is not "đã thanh toán", I paid).
RELEASE_WHOLE_WORDS: tuple[str, ...] = ("vi",)
