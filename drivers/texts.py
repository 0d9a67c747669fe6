"""Every word the kiosk shows, in Kazakh, Russian and English.

The screen shows the kiosk's language large and the other two smaller, so
``words(key, language)`` returns the three in that order.

    >>> words("admit", "ru")
    ('ПРОХОДИТЕ', 'КІРІҢІЗ', 'WELCOME')
"""
from __future__ import annotations

ORDER = ("kk", "ru", "en")

TEXTS: dict[str, tuple[str, str, str]] = {
    # verdicts
    "admit": ("КІРІҢІЗ", "ПРОХОДИТЕ", "WELCOME"),
    "deny": ("КІРУГЕ БОЛМАЙДЫ", "ВХОД ЗАПРЕЩЁН", "NO ENTRY"),
    "staff": ("ҚЫЗМЕТКЕРГЕ ЖҮГІНІҢІЗ", "ОБРАТИТЕСЬ К СОТРУДНИКУ", "PLEASE SEE STAFF"),
    "repeat": ("Сіз кіріп қойдыңыз", "Вы уже прошли", "You were just admitted"),
    # idle and progress
    "scan": ("Жеке куәлігіңізді сканерлеңіз", "Отсканируйте удостоверение личности",
             "Scan your ID card"),
    "scan-hint": ("Штрих-код сканерге қарай", "Штрих-кодом к сканеру", "Barcode towards the scanner"),
    "app": ("Ashyq қосымшасы бар болса", "Если у вас есть приложение Ashyq", "Have the Ashyq app?"),
    "checking": ("Тексерілуде…", "Проверка…", "Checking…"),
    "group-next": ("Келесі адам", "Следующий участник группы", "Next member of the group"),
    "busy": ("Кезекпен, күте тұрыңыз", "По одному, подождите", "One at a time, please wait"),
    "queue-full": ("Кезек толы, күте тұрыңыз", "Очередь заполнена, подождите", "Queue full, please wait"),
    "offline": ("Ashyq қызметімен байланыс жоқ", "Нет связи со службой Ashyq",
                "Status service offline"),
    "clock": ("Сағат синхрондалмаған", "Часы не синхронизированы", "Clock not synchronised"),
    "cached": ("Желіден тыс: соңғы белгілі мәртебе", "Нет связи: последний известный статус",
               "Offline: last known status"),
    "refund": ("Ақшаны қайтару коды", "Код для возврата денег", "Refund reference"),
    # bad scans and keypad
    "refused": ("Құжат оқылмады", "Документ не принят", "Document not accepted"),
    "staff-mode": ("ҚЫЗМЕТКЕР РЕЖИМІ", "РЕЖИМ СОТРУДНИКА", "STAFF MODE"),
    "locked": ("Пернетақта бұғатталды", "Клавиатура заблокирована", "Keypad locked"),
    "pin": ("PIN-кодты енгізіңіз", "Введите PIN-код", "Enter PIN"),
    # colours
    "green": ("Жасыл", "Зелёный", "Green"),
    "blue": ("Көк", "Синий", "Blue"),
    "yellow": ("Сары", "Жёлтый", "Yellow"),
    "red": ("Қызыл", "Красный", "Red"),
    "unknown": ("Белгісіз", "Неизвестно", "Unknown"),
}

# Why a scan or a key was refused, by DocumentError reason (or keypad reason).
REASONS: dict[str, tuple[str, str, str]] = {
    "bad-check-digit": ("ЖСН дұрыс емес", "Неверный ИИН", "Not a valid IIN"),
    "wrong-length": ("ЖСН 12 саннан тұрады", "ИИН состоит из 12 цифр", "An IIN has 12 digits"),
    "not-a-person": ("Бұл БСН, жеке тұлға емес", "Это БИН организации, не человек",
                     "A company number, not a person"),
    "bad-date": ("ЖСН-дағы күн қате", "Неверная дата в ИИН", "The IIN's date is wrong"),
    "bad-century": ("ЖСН-дағы ғасыр қате", "Неверный век в ИИН", "The IIN's century is wrong"),
    "unrecognised": ("Құжат танылмады", "Документ не распознан", "Not an ID card or passport"),
    "too-long": ("Код тым ұзын", "Код слишком длинный", "Code too long"),
    "not-utf8": ("Код оқылмады", "Код не прочитан", "Code could not be read"),
    "empty": ("Бос сканерлеу", "Пустое сканирование", "Empty scan"),
    "rate-limited": ("Тексеру шегі асты", "Превышен лимит проверок", "Too many checks"),
    "pin-wrong": ("PIN қате", "Неверный PIN", "Wrong PIN"),
    "nothing-to-resolve": ("Шешетін ештеңе жоқ", "Нечего подтверждать", "Nothing to resolve"),
    "bad-passport-number": ("Паспорт нөмірі қате", "Неверный номер паспорта",
                            "Not a passport number"),
    "mrz": ("MRZ бақылау саны қате", "Ошибка контрольной цифры MRZ", "MRZ check digit wrong"),
    "mrz-bad-type": ("Бұл құжат кіруге жарамайды", "Этот документ не подходит для входа",
                     "This document is not accepted here"),
    "mrz-bad-length": ("MRZ толық оқылмады", "MRZ прочитана не полностью", "MRZ not read in full"),
    "mrz-no-number": ("Құжат нөмірі жоқ", "Нет номера документа", "No document number"),
    "mrz-iin-mismatch": ("ЖСН мен туған күн сәйкес емес", "ИИН не совпадает с датой рождения",
                         "IIN and birth date disagree"),
    "not-digits": ("ЖСН тек саннан тұрады", "ИИН состоит только из цифр", "An IIN has only digits"),
    "bad-country": ("Ел коды қате", "Неверный код страны", "Not a country code"),
    # issue 12: birth dates, strict MRZ fields, expiry, the service's Pass, groups
    "born-in-future": ("ЖСН-дағы туған күн болашақта", "Дата рождения в ИИН в будущем",
                       "The IIN's birth date is in the future"),
    "mrz-bad-issuer": ("Құжатты берген мемлекет коды қате", "Неверный код государства выдачи",
                       "The issuing state code is wrong"),
    "mrz-bad-nationality": ("Азаматтық коды қате", "Неверный код гражданства",
                            "The nationality code is wrong"),
    "expired": ("Құжаттың жарамдылық мерзімі өткен", "Срок действия документа истёк",
                "The document has expired"),
    "no-pass": ("Ashyq кіруге рұқсат етпейді", "Ashyq не разрешает вход",
                "Ashyq does not allow entry"),
    "group-abandoned": ("Топ толық жиналмады, өту жабық", "Группа не собрана, проход закрыт",
                        "Group not completed: no entry"),
    "group-duplicate": ("Бұл адам топқа қосылған", "Этот человек уже в группе",
                        "Already in this group"),
}


def words(key: str, language: str) -> tuple[str, str, str]:
    """The text for ``key``, the kiosk's language first."""
    table = TEXTS.get(key) or REASONS.get(key) or REASONS.get(key.split("-")[0]) \
        or REASONS["unrecognised"]
    first = ORDER.index(language) if language in ORDER else 0
    return (table[first],) + tuple(table[i] for i in range(3) if i != first)


def reason_words(reason: str, language: str) -> tuple[str, str, str]:
    if reason in REASONS:
        return words(reason, language)
    return words("mrz" if reason.startswith("mrz-bad-check") else "unrecognised", language)
