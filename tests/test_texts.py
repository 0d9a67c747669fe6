"""The words on screen: the fixes a Kazakh and a Russian reader asked for
(issue 14), every key in three languages, every reason explained."""
import pytest

from drivers.texts import REASONS, TEXTS, failure_words, is_failure, reason_key, words

FIXED = [
    ("refused", 0, "Құжат қабылданбады"),
    ("scan-hint", 0, "Штрих-кодты сканерге жақындатыңыз"),
    ("scan-hint", 1, "Поднесите штрих-код к сканеру"),
    ("scan-hint", 2, "Hold the barcode to the scanner"),
    ("app", 0, "Ashyq қосымшасымен QR-кодты сканерлеңіз"),
    ("app", 1, "Есть приложение Ashyq? Отсканируйте QR-код"),
    ("app", 2, "Have the Ashyq app? Scan this code"),
    ("not-a-person", 0, "Бұл – ұйымның БСН-і, ЖСН емес"),
    ("not-a-person", 1, "Это БИН организации, а не ИИН"),
    ("wrong-length", 0, "ЖСН 12 цифрдан тұрады"),
    ("not-digits", 0, "ЖСН тек цифрлардан тұрады"),
    ("mrz", 0, "MRZ бақылау цифры қате"),
    ("bad-date", 0, "ЖСН-дағы туған күн қате"),
    ("rate-limited", 0, "Тексерулер саны шектен асты"),
    ("empty", 0, "Ештеңе сканерленбеді"),
    ("empty", 1, "Ничего не считано"),
    ("nothing-to-resolve", 0, "Растайтын ештеңе жоқ"),
    ("group-next", 0, "Топтың келесі мүшесі"),
    ("queue-full", 0, "Кезек толып қалды, күте тұрыңыз"),
    ("busy", 1, "Пожалуйста, по одному. Подождите"),
    ("offline", 1, "Нет связи с сервисом Ashyq"),
    ("refund", 1, "Код для возврата средств"),
]


@pytest.mark.parametrize("key,index,text", FIXED)
def test_the_fixed_texts(key, index, text):
    assert (TEXTS.get(key) or REASONS[key])[index] == text


def test_every_text_in_three_languages():
    for key, said in {**TEXTS, **REASONS}.items():
        assert len(said) == 3 and all(s.strip() for s in said), key
        assert len(set(said)) > 1 or key.startswith("menu"), key  # not one language thrice


@pytest.mark.parametrize("reason", ["born-in-future", "expired", "group-abandoned"])
def test_newer_reasons_have_their_own_words(reason):
    assert reason_key(reason) == reason


def test_the_kiosk_language_comes_first():
    assert words("admit", "ru") == ("ПРОХОДИТЕ", "КІРІҢІЗ", "WELCOME")
    assert words("queued", "en")[0] == "One at a time, please wait"  # not "not recognised"


@pytest.mark.parametrize("reason,keys", [
    ("lookup-timeout", ["no-connection"]), ("lookup-network", ["no-connection"]),
    ("lookup-not-found", ["not-found"]), ("rate-limited", ["rate-limited", "try-again"]),
    ("lookup-http-503", ["service-error", "try-again"])])
def test_failures_are_explained(reason, keys):
    assert is_failure(reason) and failure_words(reason) == keys


@pytest.mark.parametrize("reason", ["red", "yellow-weekend", "foreign-passport", "repeat", None])
def test_a_status_is_not_a_failure(reason):
    assert not is_failure(reason)
