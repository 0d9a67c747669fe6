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
    "scan-hint": ("Штрих-кодты сканерге жақындатыңыз", "Поднесите штрих-код к сканеру",
                  "Hold the barcode to the scanner"),
    "app": ("Ashyq қосымшасымен QR-кодты сканерлеңіз", "Есть приложение Ashyq? Отсканируйте QR-код",
            "Have the Ashyq app? Scan this code"),
    "checking": ("Тексерілуде…", "Проверка…", "Checking…"),
    "group-next": ("Топтың келесі мүшесі", "Следующий участник группы", "Next member of the group"),
    "busy": ("Кезекпен, күте тұрыңыз", "Пожалуйста, по одному. Подождите", "One at a time, please wait"),
    "queue-full": ("Кезек толып қалды, күте тұрыңыз", "Очередь заполнена, подождите", "Queue full, please wait"),
    "offline": ("Ashyq қызметімен байланыс жоқ", "Нет связи с сервисом Ashyq",
                "Status service offline"),
    "clock": ("Сағат синхрондалмаған", "Часы не синхронизированы", "Clock not synchronised"),
    "cached": ("Желіден тыс: соңғы белгілі мәртебе", "Нет связи: последний известный статус",
               "Offline: last known status"),
    "refund": ("Ақшаны қайтару коды", "Код для возврата средств", "Refund reference"),
    # bad scans and keypad
    "refused": ("Құжат қабылданбады", "Документ не принят", "Document not accepted"),
    "staff-mode": ("ҚЫЗМЕТКЕР РЕЖИМІ", "РЕЖИМ СОТРУДНИКА", "STAFF MODE"),
    "locked": ("Пернетақта бұғатталды", "Клавиатура заблокирована", "Keypad locked"),
    "pin": ("PIN-кодты енгізіңіз", "Введите PIN-код", "Enter PIN"),
    "queued": ("Кезекпен, күте тұрыңыз", "Пожалуйста, по одному. Подождите", "One at a time, please wait"),
    "scanner": ("Сканер қосылмаған, қызметкерге жүгініңіз", "Сканер не подключён, обратитесь к сотруднику",
                "Scanner not connected, please see staff"),
    "scanner-down": ("Сканер жұмыс істемейді", "Сканер не работает", "The scanner is not working"),
    # a lookup that failed, a full venue, a door that cannot record: none is a status
    "check-failed": ("Мәртебені тексеру мүмкін болмады", "Не удалось проверить статус",
                     "Your status could not be checked"),
    "no-connection": ("Ashyq сервисімен байланыс жоқ", "Нет связи с сервисом Ashyq",
                      "No connection to the Ashyq service"),
    "not-found": ("Сіз Ashyq сервисінде табылмадыңыз", "Вас не нашли в сервисе Ashyq",
                  "You were not found in the Ashyq service"),
    "service-error": ("Ashyq сервисі дұрыс жауап бермеді", "Сервис Ashyq ответил с ошибкой",
                      "The Ashyq service did not answer properly"),
    "try-again": ("Бір минуттан соң қайталап көріңіз", "Попробуйте ещё раз через минуту",
                  "Try again in a minute"),
    "see-staff": ("Қызметкерге жүгініңіз", "Обратитесь к сотруднику", "Please see staff"),
    "no-entry": ("Кіруге болмайды", "Вход запрещён", "No entry"),
    "venue-full": ("ОРЫН ЖОҚ", "МЕСТ НЕТ", "VENUE FULL"),
    "venue-full-wait": ("Біреу шыққанша күте тұрыңыз", "Подождите, пока кто-нибудь выйдет",
                        "Please wait until someone leaves"),
    "out-of-service": ("Уақытша жұмыс істемейді", "Временно не работает", "Out of service"),
    "group": ("Топ", "Группа", "Group"),
    "locked-left": ("Қалған уақыт", "Осталось времени", "Time left"),
    "inside": ("ішінде", "внутри", "inside"),
    "estimate": ("шамамен", "примерно", "estimate"),
    # staff keypad
    "type-number": ("ЖСН немесе паспорт нөмірін теріп, # басыңыз",
                    "Наберите ИИН или номер паспорта и нажмите #",
                    "Type the IIN or passport number, then press #"),
    "group-size": ("Топта неше адам? (2-20), содан кейін #", "Сколько человек в группе? (2-20), затем #",
                   "How many in the group? (2-20), then #"),
    "menu-1": ("Өткізу", "Пропустить", "Admit"),
    "menu-2": ("Кіргізбеу", "Не пропускать", "Deny"),
    "menu-3": ("Нөмірді теру", "Ввести номер", "Type a number"),
    "menu-4": ("Растау", "Подтвердить", "Confirm"),
    "menu-5": ("Топ", "Группа", "Group"),
    "menu-6": ("Тіл", "Язык", "Language"),
    "menu-7": ("Ішіндегілер саны", "Сколько внутри", "People inside"),
    "occupancy-count": ("Ішінде неше адам? содан кейін #", "Сколько человек внутри? затем #",
                        "How many people are inside? then #"),
    "menu-*": ("Шығу", "Выход", "Exit"),
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
    "wrong-length": ("ЖСН 12 цифрдан тұрады", "ИИН состоит из 12 цифр", "An IIN has 12 digits"),
    "not-a-person": ("Бұл – ұйымның БСН-і, ЖСН емес", "Это БИН организации, а не ИИН",
                     "A company number, not a person"),
    "bad-date": ("ЖСН-дағы туған күн қате", "Неверная дата в ИИН", "The IIN's date is wrong"),
    "bad-century": ("ЖСН-дағы ғасыр қате", "Неверный век в ИИН", "The IIN's century is wrong"),
    "unrecognised": ("Құжат танылмады", "Документ не распознан", "Not an ID card or passport"),
    "too-long": ("Код тым ұзын", "Код слишком длинный", "Code too long"),
    "not-utf8": ("Код оқылмады", "Код не прочитан", "Code could not be read"),
    "empty": ("Ештеңе сканерленбеді", "Ничего не считано", "Nothing was scanned"),
    "rate-limited": ("Тексерулер саны шектен асты", "Превышен лимит проверок", "Too many checks"),
    "pin-wrong": ("PIN қате", "Неверный PIN", "Wrong PIN"),
    "nothing-to-resolve": ("Растайтын ештеңе жоқ", "Нечего подтверждать", "Nothing to resolve"),
    "bad-passport-number": ("Паспорт нөмірі қате", "Неверный номер паспорта",
                            "Not a passport number"),
    "mrz": ("MRZ бақылау цифры қате", "Ошибка контрольной цифры MRZ", "MRZ check digit wrong"),
    "mrz-bad-type": ("Бұл құжат кіруге жарамайды", "Этот документ не подходит для входа",
                     "This document is not accepted here"),
    "mrz-bad-length": ("MRZ толық оқылмады", "MRZ прочитана не полностью", "MRZ not read in full"),
    "mrz-no-number": ("Құжат нөмірі жоқ", "Нет номера документа", "No document number"),
    "mrz-iin-mismatch": ("ЖСН мен туған күн сәйкес емес", "ИИН не совпадает с датой рождения",
                         "IIN and birth date disagree"),
    "not-digits": ("ЖСН тек цифрлардан тұрады", "ИИН состоит только из цифр", "An IIN has only digits"),
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
    second, third = (table[i] for i in range(3) if i != first)
    return table[first], second, third


def reason_key(reason: str) -> str:
    """The REASONS key that explains ``reason`` (an unknown one: not recognised)."""
    if reason in REASONS:
        return reason
    return "mrz" if reason.startswith("mrz-bad-check") else "unrecognised"


def reason_words(reason: str, language: str) -> tuple[str, str, str]:
    return words(reason_key(reason), language)


# Why a lookup failed, in words a visitor understands: policy reasons are
# "lookup-<cause>" (kiosk/status.py) or the kiosk's own "rate-limited".
NO_CONNECTION = {"timeout", "refused", "tls", "network"}


def is_failure(reason) -> bool:
    """A result decided by a failed lookup, not by anyone's status."""
    return bool(reason) and (reason.startswith("lookup-") or reason == "rate-limited")


def failure_words(reason: str) -> list[str]:
    """The keys that explain a failed lookup: why, and what to do."""
    cause = reason.removeprefix("lookup-")
    if cause in NO_CONNECTION:
        return ["no-connection"]
    if cause == "not-found":
        return ["not-found"]
    if cause == "rate-limited":
        return ["rate-limited", "try-again"]
    return ["service-error", "try-again"]
