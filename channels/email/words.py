"""The few words pressbot itself writes into every newsletter, in the reader's language.

The greeting and the footer are filled per recipient at send time (placeholders left by
`bot.render`), from the subscriber's language, else the post's, else English. A language
not listed here falls back to English; a region (`es-MX`) uses its language (`es`).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Words:
    hello: str
    """The greeting without a name."""
    hello_name: str
    """The greeting with `{name}`."""
    reason: str
    unsubscribe: str
    view: str


WORDS = {
    "en": Words("Hello,", "Hello {name},", "You receive this because you subscribed to our news.",
                "Unsubscribe", "View in your browser"),
    "es": Words("Hola:", "Hola, {name}:",
                "Recibe este mensaje porque se suscribió a nuestras noticias.",
                "Darse de baja", "Ver en el navegador"),
    "fr": Words("Bonjour,", "Bonjour {name},",
                "Vous recevez ce message parce que vous êtes abonné à nos actualités.",
                "Se désabonner", "Voir dans le navigateur"),
    "ru": Words("Здравствуйте!", "Здравствуйте, {name}!",
                "Вы получили это письмо, потому что подписались на наши новости.",
                "Отписаться", "Открыть в браузере"),
}


def words_for(*languages: str | None) -> Words:
    """The words of the first of `languages` pressbot knows, else English."""
    for language in languages:
        if language:
            found = WORDS.get(language.split("-")[0].split("_")[0].lower())
            if found is not None:
                return found
    return WORDS["en"]
