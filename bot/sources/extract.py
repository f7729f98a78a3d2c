"""Messy press-release text in; title, date, lede, clean body and links out.

Releases reach the bot as copies of web pages (a date line, navigation crumbs and
"related news" around the article) or as text pulled out of PDFs (banners, hard-wrapped
lines, hyphenation, page numbers), both with long footers nobody wants in a post. Each
step is a small pure function with its own table of tests; `extract_text` composes them.

`extract_text` never raises and stays linear in its input: line checks run only on short
lines, patterns have no nested quantifiers, and dateparser is imported only as a last
resort for dates not written in English or digits (see `bot.sources.dates`).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from bot.sources.dates import HeadDates, date_line_span, find_date, parse_date_line
from bot.sources.footers import (
    LABEL_LINE,
    TERMINAL,
    defined_subject,
    is_about,
    is_appeal,
    is_boilerplate,
    is_contact_block,
    is_footer_heading,
    is_run_in_about,
    is_supported_by,
    sends_to_address,
    without_article,
)

__all__ = ["BOILERPLATE_MARKERS", "Extracted", "extract_text", "find_date", "find_links",
           "heading_in",
           "join_notes", "line_kind", "normalise", "parse_date_line", "partition",
           "rejoin_hyphenation", "split_notes", "split_paragraphs"]


@dataclass(frozen=True)
class Extracted:
    title: str | None
    date: date | None
    lede: str
    body: str
    links: list[str] = field(default_factory=list)
    notes: str = ""


# A body line never matches any of these (checked with `search`; each is anchored to a line).
BOILERPLATE_MARKERS: tuple[re.Pattern[str], ...] = tuple(re.compile(p, re.I | re.M) for p in (
    r"^[ \t]*(?:page|seite|p\.)[ \t]*\d{1,4}(?:[ \t]*(?:of|/|von|sur|di)[ \t]*\d{1,4})?[ \t]*$",
    r"^[ \t]*(?:-[ \t]*\d{1,4}[ \t]*-|\d{1,3}(?:[ \t]*/[ \t]*\d{1,3})?)[ \t]*$",
    r"^[ \t]*(?:#(?:[ \t]*#){2,}|\[?[-–—]*[ \t]*(?:ends?|fin|ende|termina|конец)[ \t]*[-–—]*\]?"
    r"|[-–—]+[ \t]*(?:end|fin|ende|конец)[ \t]*[-–—]+|[-–—][ \t]*30[ \t]*[-–—]"
    r"|\*(?:[ \t]*\*){2,}|fin del comunicado|fin du communiqu[ée])[ \t]*$",
    r"^[ \t]*(?:read more|continue reading|share(?: this(?: article| page| post)?)?|tweet"
    r"|print(?: this page)?|back to (?:news|overview|top)|related (?:news|articles|posts)"
    r"|more news|latest news|skip to (?:main )?content)[ \t]*[.:…»›>]*[ \t]*$",
    r"^[ \t]*(?:you are here:?[ \t]*)?(?:home|start|startseite|accueil)[ \t]*[>»›|/].{0,200}$",
    r"^[ \t]*(?:tel(?:ephone)?|phone|mobile|fax|t[ée]l[ée]?(?:fono|phone)?|m[óo]vil|portable"
    r"|тел(?:ефон)?|моб(?:ильный)?|факс)[ \t]*[.:]?[ \t]*\+?[\d(][\d ()./-]{5,40}$",
    r"^[ \t]*(?:e-?mail|correo(?:[ \t]+electr[óo]nico)?|courriel|эл\.?[ \t]*почта"
    r"|электронная[ \t]+почта)[ \t]*:[ \t]*\S{0,80}@\S{1,80}[ \t]*$",
))



def _any_of(patterns: tuple[re.Pattern[str], ...]) -> re.Pattern[str]:
    """One pattern for "any of these": one scan of a paragraph instead of one per pattern."""
    return re.compile("|".join(f"(?:{p.pattern})" for p in patterns), re.I | re.M)


_PAGE_OR_END = _any_of(BOILERPLATE_MARKERS[:3])
_NAVIGATION = _any_of(BOILERPLATE_MARKERS[3:5])
_CONTACT_LINE = _any_of(BOILERPLATE_MARKERS[5:])
_ANY_MARKER = _any_of(BOILERPLATE_MARKERS)

_FRAGMENT_END = re.compile(
    r"(?:[,;:(/&–—-]|\b(?:and|or|of|the|a|an|to|for|in|on|with|by|at|from|as|into|its|their"
    r"|und|der|die|das|für|mit|et|de|la|le|des|per|il|e|in))$", re.I)
# control characters, and the invisible ones that mean nothing: zero-width space, word
# joiner, BOM. ZWJ and ZWNJ stay: they make 👩‍💻 one emoji and spell Persian words.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f\u200b\u2060\ufeff]")
_U_TAG = re.compile(r"</?u[ \t]*>", re.I)
_U_WRAPPED = re.compile(r"<u>[ \t]*([^<\s]+(?:\n[^<\s]+)+)[ \t]*</u>", re.I)
_HYPHEN_EOL = re.compile(r"(?<=\w)-[ \t]*\n[ \t]*(?=\w)")
_HYPHENATED = re.compile(r"\b[^\W\d_]+-[^\W\d_]+")
_KEEP_HYPHEN = frozenset((
    "cross", "self", "non", "well", "long", "short", "small", "large", "high", "low", "all", "ex",
    "world", "state", "follow", "mid", "far", "full", "half", "multi", "year", "day", "eu", "co"))
_BANNER = re.compile(
    r"(?:press|media|news)[ \t]+(?:release|information|info|statement|notice|note|announcement)s?"
    r"|pressemitteilung|presseinformation|presseaussendung|communiqu[ée] de presse"
    r"|comunicato stampa|nota de prensa|sporočilo za javnost|tiskov[aá] zpráva"
    r"|(?:for )?immediate (?:release|publication)|embargo(?:ed)?\b"
    r"|comunicado de prensa|para (?:su )?(?:publicaci[óo]n|difusi[óo]n) inmediata"
    r"|pour (?:diffusion|publication) imm[ée]diate|пресс-релиз|информационное сообщение"
    r"|для (?:немедленной )?публикации"
    # Dutch, Swedish, Polish, Slovak, Portuguese; a press office's "press article" label
    r"|persbericht|pressmeddelande|komunikat prasowy|informacja prasowa|tla[čc]ov[áa] spr[áa]va"
    r"|comunicado de imprensa|nota (?:[àa]|de) imprensa|presseartikel"
    # the Swiss press offices' "media release", a section's name as often as a banner
    r"|communiqu[ée]s?[ \t]+aux[ \t]+m[ée]dias|medienmitteilung|comunicat[oi][ \t]+ai[ \t]+media"
    # the other languages of the EU: hu, fi, da, el, ro, bg, hr, lt, lv, et, ca, mt
    r"|sajt[óo]k[öo]zlem[ée]ny|(?:lehdist[öo])?tiedote|pressemeddelelse|δελτίο[ \t]+τύπου"
    r"|comunicat[ \t]+de[ \t]+pres[ăa]|прессъобщение|съобщение[ \t]+за[ \t]+медиите"
    r"|priop[ćc]enje[ \t]+za[ \t]+(?:medije|javnost)|prane[šs]imas[ \t]+(?:spaudai|žiniasklaidai)"
    r"|preses[ \t]+(?:relīze|paziņojums)|paziņojums[ \t]+presei|pressiteade"
    r"|nota[ \t]+de[ \t]+premsa|pressemelding|stqarrija"
    r"|dossier[ \t]+de[ \t]+presse|pressemappe|press[ \t]+kit|dossier[ \t]+de[ \t]+prensa"
    r"|cartella[ \t]+stampa|persmap[ \t]+għall-istampa",
    re.I)
_BREADCRUMB = re.compile(r"(?:you are here:?[ \t]*)?(?:home|start|startseite|accueil)[ \t]*[>»›|/]",
                         re.I)
_CRUMB_SEP = re.compile(r"[ \t][>»›][ \t]")
_STRAY = re.compile(
    r"(?:read more|more|read the full (?:story|article)|continue reading|share|share this"
    r"(?: article| page| post)?|share on \w+|tweet|print|print this page|e-?mail this|back"
    r"|back to (?:news|overview|top|the list)|see all news|all news|news|skip to (?:main )?content"
    r"|menu|search|suche|recherche|b[úu]squeda|buscar|cerca|zoeken|s[öo]k|szukaj|hledat|haku"
    r"|keres[ée]s|c[ăa]utare|pesquis(?:a|ar)|top|subscribe|previous|next|newer|older|facebook|twitter|linkedin|x|instagram"
    r"|youtube|whatsapp|mastodon|bluesky|threads|copy link|download pdf|pdf|top of page"
    r"|partager|teilen|compartir|condividi|поделиться|imprimer|drucken|imprimir|печать"
    r"|partilhar|compartilhar|delen|dela|sdílet|udostępnij|scroll to top|back to top|nach oben"
    r"|haut de (?:la )?page|volver arriba|torna su|naar boven"
    # the word a copy keeps of a picture it could not copy
    r"|image|imagen|immagine|bild|afbeelding|picture"
    r"|(?:skip|jump) to (?:main )?(?:content|navigation)|skip navigation|jump to navigation"
    r"|springe (?:direkt )?zu:?(?: inhalt)?|zum (?:inhalt|hauptinhalt|hauptmen[üu]|untermen[üu])"
    # the hidden heading over a site's menus, read out by screen readers and kept by a copy
    r"|navigation und service|hauptnavigation|servicenavigation|main navigation"
    r"|zur suche|aller au (?:contenu(?: principal)?|menu)|ir al contenido(?: principal)?"
    r"|saltar al contenido(?: principal)?|перейти к (?:основному )?(?:содержанию|контенту)"
    r"|(?:zum inhalt|zum hauptmen[üu]|zur suche|zum untermen[üu]) accesskey \[\d\]"
    # the skip link, "read more", "share" and "download the photos" of the EU's languages,
    # as site generators (WordPress and the like) translate them
    r"|zum inhalt springen|vai al contenuto|naar (?:de )?inhoud(?: springen| gaan)?"
    r"|(?:pular|saltar|ir) para o conte[úu]do|przejd[źz] do (?:tre[śs]ci|zawarto[śs]ci)"
    r"|p[řr]ej[íi]t k obsahu|presko[čc]i[tť]? na (?:obsah|vsebino|sadr[žz]aj)"
    r"|hoppa till (?:huvud)?inneh[åa]ll(?:et)?|spring til (?:hoved)?indhold"
    r"|hopp til (?:hoved)?innhold"
    r"|siirry (?:p[äa][äa])?sis[äa]lt[öo][öo]n|ugr[áa]s a (?:f[őo])?tartalomhoz"
    r"|sari la con[țţt]inut|μετάβαση στο (?:κύριο )?περιεχόμενο|(?:направо )?към съдържанието"
    r"|pereiti prie (?:pagrindinio )?turinio|p[āa]riet uz (?:galveno )?saturu|liigu sisu juurde"
    r"|(?:v[ée]s|salta) al contingut|(?:ir|saltar|volver) ao contido"
    r"|approfondisci|leggi (?:tutto|di pi[ùu]|l['’]articolo)|lire la suite|en savoir plus"
    r"|leer m[áa]s|leia mais|saiba mais|lees meer|meer lezen|czytaj (?:wi[ęe]cej|dalej)"
    r"|[čc][íi]st (?:d[áa]l|v[íi]ce)|[čc]ítať (?:viac|ďalej)|l[äa]s mer|l[æa]s mere|les mer"
    r"|lue lis[äa][äa]|tov[áa]bb|b[őo]vebben|cite[șşs]te (?:mai mult|mai departe)"
    r"|preberi (?:ve[čc]|dalje)|pro[čc]itaj(?:te)? (?:vi[šs]e|jo[šs])|skaityti (?:daugiau|toliau)"
    r"|las[īi]t (?:vair[āa]k|t[āa]l[āa]k)|loe (?:edasi|rohkem)|vaata (?:lisa|rohkem)"
    r"|διαβάστε (?:περισσότερα|περισσότερο)|περισσότερα|прочети(?:те)? (?:още|повече)"
    r"|виж(?:те)? (?:още|повече)|llegir m[ée]s|ler m[áa]is"
    r"|megoszt[áa]s|jaa|del|podijeli|deli|distribuie|dalintis|dal[īi]ties|jaga|κοινοποίηση"
    r"|сподели|comparteix|comparte"
    r"|drukāt|spausdinti|prindi|tulosta|nyomtat[áa]s|drukuj|tisk(?:nout)?|tla[čc]i[tť]|natisni"
    r"|ispi[šs]i|printeaz[ăa]|εκτύπωση|печат|imprimeix|stampa|afdrukken|skriv ut|udskriv"
    r"|(?:изтегли|download|t[ée]l[ée]charger|herunterladen|descargar|scarica|downloaden|pobierz"
    r"|st[áa]hnout) (?:снимки(?:те)?|(?:the )?photos?|pictures|images|fotos?|bilder|zdj[ęe]cia"
    r"|fotografie)"
    r"|(?:view|see|show) (?:more|all)(?: in this section| news)?"
    # a banner image's alternative text, a theme's "you are viewing …", results per page
    r"|.{0,80}[ \t]banner|(?:no momento, )?voc[êe] est[áa] visualizando.{0,160}"
    r"|you are (?:currently )?viewing.{0,160}"
    r"|close (?:this )?search(?: box)?|(?:scroll(?: down)?|scrollen sie(?: nach unten)?)"
    r" (?:to|um) [^.]{0,80}"
    # a blog's archive heading over its posts: `Category Archive: Company Updates`
    r"|(?:category|tag|author|monthly|yearly|daily) archives?:.{0,80}"
    r"|archive for (?:the )?category.{0,80}"
    # a site map link, alone or in a tools bar (accessibility words: `_ACCESSIBILITY`)
    r"|(?:(?:sitemap|site ?map|mapa do site|mapa del sitio|mapa web|plan du site"
    r"|mappa del sito|sitemappe|nettstedskart)[ \t|·/-]*){1,4}"
    # a skip link past an embedded video, map or feed, for keyboard users
    r"|(?:skip|jump over) (?:the )?(?:video|map|carousel|gallery|feed|embed)"
    r"|(?:video|karte|galerie|bildergalerie|karussell|feed) [üu]berspringen"
    r"|(?:passer|ignorer) (?:la )?(?:vid[ée]o|carte|galerie)|saltar (?:el )?(?:v[íi]deo|mapa)"
    r"|пропустить (?:видео|карту))", re.I)
# a page's language switcher copied as one line, its names often run together: `euskaraespañol`
_LANGUAGE_NAME = (r"(?:english|deutsch|fran[çc]ais|espa[ñn]ol|euskara|catal[àa]|galego|italiano"
                  r"|portugu[êe]s|nederlands|polski|svenska|norsk|dansk|suomi|čeština|русский"
                  r"|українська)")
_LANGUAGE_SWITCH = re.compile(r"(?:" + _LANGUAGE_NAME + r"[ \t|/·]*){2,8}", re.I)
# a site generator's credit in the page's foot: `Powered by WordPress`, a plugin's ad link
_CMS_CREDIT = re.compile(r"(?:[\w-]+[ \t]+){0,4}(?:wordpress|joomla!?|drupal|wix|squarespace"
                         r"|blogger|typo3)(?:[ \t]+[\w-]+){0,3}", re.I)
# a breadcrumb whose first crumb (`Home`, an icon) the copy lost: `> Section >Title`
_LEAD_CRUMB = re.compile(r"[>»›][ \t]+\S.{0,200}?[ \t][>»›]")
# a press officer's office alone on the line under the name: the release's signature
_PRESS_ROLE = re.compile(
    r"(?:(?:stellvertretende[rn]?|deputy|senior|head of)[ \t]+)?(?:pressesprecher(?:in)?"
    r"|pressereferent(?:in)?|press[ \t]+(?:officer|secretary|spokesperson)|spokes(?:person|man"
    r"|woman)|porte-parole|portavoz|portavoce|woordvoerder|rzecznik[ \t]+prasowy|tiskov[ýá][ \t]+"
    r"mluv[čc][íi]|pressansvarig|presseansvarlig|assessora?[ \t]+de[ \t]+imprensa)"
    r"(?:[ \t,]+[^\n.!?]{0,60})?", re.I)
# `/Martin Persson`: the writer's signature closing a Scandinavian newsroom's article
# (a first and a last name at least: `/News` alone is a path, not a writer)
_SLASH_SIGNATURE = re.compile(r"/[ \t]?[A-ZÀ-Þ][\w.-]+(?:[ \t]+[A-ZÀ-Þ][\w.-]+){1,3}")
# a blog's comment section under the story, in the words of the EU's languages (WordPress,
# Blogger): `Leave a comment`, `LASCIA UN COMMENTO`, `Δεν υπάρχουν σχόλια:`, `3 Comments`
_COMMENTS = re.compile(
    r"(?:\d+[ \t]+)?(?:(?:leave|post|add|write|submit)[ \t]+(?:a|your)[ \t]+(?:comment|reply)"
    r"|comments?(?:[ \t]*\(\d+\))?|no[ \t]+comments(?:[ \t]+yet)?|comments[ \t]+are[ \t]+closed"
    r"|lascia[ \t]+un[ \t]+commento|commenti|laisser[ \t]+un[ \t]+commentaire|commentaires?"
    r"|deja[ \t]+(?:un|tu)[ \t]+comentario|comentarios?|deixe?[ \t]+(?:um|seu)[ \t]+coment[áa]rio"
    r"|coment[áa]rios|schreibe(?:n[ \t]+sie)?[ \t]+einen[ \t]+kommentar"
    r"|kommentar[ \t]+(?:schreiben|hinterlassen|verfassen)|(?:keine[ \t]+)?kommentare?"
    r"|reacties?|geef[ \t]+een[ \t]+reactie|laat[ \t]+een[ \t]+reactie[ \t]+achter|kommentarer"
    r"|l[äa]mna[ \t]+en[ \t]+kommentar|skriv[ \t]+en[ \t]+kommentar|komentarz[ey]?"
    r"|(?:dodaj|zostaw)[ \t]+komentarz|koment[áa][řr]e?|p[řr]idat[ \t]+koment[áa][řr]"
    r"|hozz[áa]sz[óo]l[áa]sok?|kommentit|kommentoi|δημοσίευση[ \t]+σχολίου"
    r"|(?:δεν[ \t]+υπάρχουν[ \t]+)?σχόλια|коментари?|(?:остави|добави)[ \t]+коментар|comentarii"
    r"|las[ăa][ \t]+un[ \t]+comentariu|komentarai|koment[āa]ri|kommentaarid|komentari"
    r"|comentaris|deixa[ \t]+un[ \t]+comentari)", re.I)
# a cookie notice: a cookie word (in the EU's languages) and a word of sites, consent or use
_COOKIES = re.compile(r"cookie|kola[čc]i[ćc]|pi[šs]kot|s[üu]ti|ev[äa]ste|ciasteczk|slapuk"
                      r"|s[īi]kdatn|k[üu]psis|бисквитк|μπισκότ|куки", re.I)
_CONSENT = re.compile(
    r"site|web|navig|brows|accept|agree|consent|acord|zustimm|einverstanden|akzept|accett|acept"
    r"|aceit|privacy|datenschutz|confidentialit|privacidad|privacidade|polic|politi|setting"
    r"|einstellung|param[èe]tr|impostazion|configura|\bus(?:e|es|ed|ing)\b|utili[sz]|usamos|folos"
    r"|nutz|verwend|gebruik|u[żz]yw|pou[žz][íi]v|haszn[áa]l|k[äa]ytt[äa]|bruger|anv[äa]nd"
    r"|uporablja|koristi|naudoja|izmanto|kasuta|използва|χρησιμοποι", re.I)
# a logo's alternative text or file name alone on its line: `jems logo`, `interreg_logo_v2`
_LOGO = re.compile(r"(?:[^\s_-]+[ \t_-]+){0,5}(?:logo|logotyp|logotipo|λογότυπο|лого)"
                   r"(?:[_-][\w-]*)?", re.I)
# a page's bookmark line under a blog post (`Bookmark the permalink.`)
_PERMALINK = re.compile(r"permalink|lien permanent|permanentlink|enlace permanente"
                        r"|link permanente|μόνιμο σύνδεσμο", re.I)
# a page's reading-time label, `Lesedauer: 1 Min`, `5 min read`, at the end of a short line
# (a copy may run it into the site's name before it)
_READING_TIME = re.compile(
    r"(?:(?:lesedauer|lesezeit|reading time|read time|temps de lecture|tiempo de lectura"
    r"|tempo di lettura|tempo de leitura|leestijd|lästid|czas czytania|время чтения)[ \t]*:?"
    r"[ \t]*(?:ca\.[ \t]*)?\d{1,3}[ \t]*min(?:\.|uten?|utes?|ut[ao]s?)?"
    r"|\d{1,3}[ \t]*min(?:ute)?s?[ \t]+(?:read|lesen|de lecture|de lectura))$", re.I)
# a picture's file name alone on its line: what a copy keeps of an image it could not copy
_IMAGE_FILE = re.compile(r"[\w.,()+-]{1,60}(?: [\w.,()+-]{1,30}){0,2}\.(?:jpe?g|png|gif|webp|svg"
                         r"|tiff?|bmp|avif)", re.I)
# a page's own record of its edits, "Last updated on:", alone on its line above the date:
# read with the date in a release's head, never part of its story
_EDIT_LABEL = re.compile(
    r"(?:zuletzt )?(?:ge[äa]ndert|aktualisiert)(?: am)?|last (?:updated|modified)(?: on)?"
    r"|(?:mis [àa] jour|modifi[ée])(?: le)?|(?:[úu]ltima )?actualizaci[óo]n|обновлено"
    r"|(?:[úu]ltima )?a(?:c)?tualiza[çc][ãa]o|publicad[oa](?: (?:a|em|el|en))?"
    r"|publi[ée]e?(?: le)?|published(?: on)?|ver[öo]ffentlicht(?: am)?", re.I)
_RELATED = re.compile(
    r"(?:related|more|latest|other|recent) (?:news|articles|posts|stories|content|releases"
    r"|topics)|you (?:may|might) also (?:like|be interested in)|see also|read also"
    r"|also of interest|(?:das )?(?:k[öo]nnte|d[üu]rfte) sie (?:auch )?interessieren"
    r"|auch interessant|(?:weitere|[äa]hnliche|aktuelle|neueste) (?:meldungen|nachrichten"
    r"|artikel|beitr[äa]ge|pressemitteilungen|themen)|verwandte themen|mehr zum thema"
    r"|zum thema|lesen sie auch|siehe auch|(?:[àa] )?lire aussi|voir aussi"
    r"|sur le m[êe]me sujet|(?:articles|actualit[ée]s) (?:similaires|li[ée]es)"
    r"|dans la m[êe]me rubrique|vous aimerez aussi|(?:noticias|art[íi]culos) relacionad[oa]s"
    r"|(?:tambi[ée]n )?te puede interesar|lee tambi[ée]n|m[áa]s noticias|otras noticias"
    r"|читайте также|смотрите также|похожие (?:новости|статьи)|другие новости", re.I)
# "1. …" is a list item; "25. September 2025 – …" is a dateline
_MONTH_START = (r"(?:jan|feb|m[aä]r|apr|ma[iy]|jun|jul|aug|sep|o[ck]t|nov|de[cz]|f[ée]v|avr|ao[uû]"
                r"|d[ée]c|ene|abr|ago|dic|янв|фев|мар|апр|ма[йя]|июн|июл|авг|сен|окт|ноя|дек)")
_BARE_ADDRESS = re.compile(r"(?:https?://|www\.)\S{3,200}", re.I)
_BULLET = re.compile(r"(?:[-*•–·▪]|\d{1,2}[.)](?![ \t]+" + _MONTH_START + r"))[ \t]+(?=\S)",
                     re.I)

_LINK = re.compile(r"(?:https?://|(?<![\w/.@:-])www\.)[^\s<>\"'`{}|\\^\[\]]+", re.I)
_LINK_TRAIL = ".,;:!?'\"”’»…*"


def normalise(text: str) -> str:
    """One newline style, no control characters, no `<u>` tags, spaces instead of tabs."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n")
    text = text.replace("\u2028", "\n").replace("\u2029", "\n\n").replace("\u00ad\n", "")
    # a link underlined in a PDF and broken over lines is one link: the tags say where it ends
    text = _U_WRAPPED.sub(lambda m: m.group(1).replace("\n", ""), text)
    text = _U_TAG.sub("", text).replace("\u00ad", "")
    return _CONTROL.sub("", text).replace("\t", " ").replace("\u00a0", " ")


def rejoin_hyphenation(text: str) -> str:
    """`coope-\\nration` → `cooperation`; keeps the hyphen in `cross-\\nborder`, `Danube-\\nAlps`
    and in URLs, and where the text spells the same word with a hyphen elsewhere."""
    known = {w.lower() for w in _HYPHENATED.findall(text)}

    def join(m: re.Match[str]) -> str:
        start = m.start()
        left = text[max(0, start - 80):start].rsplit(None, 1)[-1] if start else ""
        right = re.match(r"\w*", text[m.end():m.end() + 80])
        right_word = right.group(0) if right else ""
        if left.startswith(("-", "–", "—")):  # a marker such as -ENDS-, not a broken word
            return m.group(0)
        last = left.rsplit("-", 1)[-1]
        last = re.sub(r"^\W+", "", last)
        keep = (not right_word[:1].islower() or any(c in left for c in "/@:")
                or "www." in left.lower() or last.lower() in _KEEP_HYPHEN
                or f"{last}-{right_word}".lower() in known)
        return "-" if keep else ""

    return _HYPHEN_EOL.sub(join, text)


def _bare(line: str) -> str:
    return line.strip(" .:…»«›‹→←>|<-–—*•")


def _banner_rest(line: str) -> str | None:
    m = _BANNER.match(line)
    if not m:
        return None
    if m.group(0).lower().startswith("embargo"):
        return ""
    rest = line[m.end():].strip(" \t-–—|:,/•·")
    return rest if len(rest.split()) <= 4 or date_line_span(rest, parse_foreign=False) else None


def line_kind(line: str) -> str:
    """What a whitespace-normalised line (or paragraph) is: `text`, `bullet` or a kind of junk:
    page, end, footer, related, banner, date, breadcrumb, stray, boiler."""
    if not line:
        return "blank"
    if _PAGE_OR_END.search(line):
        return "end" if BOILERPLATE_MARKERS[2].search(line) else "page"
    # an item of a list may be a footer's line too (`- Kontakt: …`, `- Follow us on X @…`)
    item = line[m.end():] if (m := _BULLET.match(line)) else line
    if is_footer_heading(item) or is_run_in_about(item):
        return "footer"
    if len(line) <= 300 and _EVENT_LABEL.match(line):
        return "text"  # `Zeit: Donnerstag, 3. Mai 2001` / `Ort: Rathaus, Zimmer 231`: the story's
    if len(line) <= 160:
        bare = _bare(line)
        comments = len(bare) <= 60 and _COMMENTS.fullmatch(bare)
        if comments and len(bare.split()) == 1:
            return "stray"  # `Comments`, `Reacties` alone: maybe a story's own subheading
        if (_RELATED.fullmatch(bare) or comments or _PREV_NEXT.match(bare)
                or ((m := _RELATED.match(bare)) and bare[m.end():].lstrip().startswith(":"))):
            return "related"
        if _banner_rest(line) is not None:
            return "banner"
        if date_line_span(line, parse_foreign=False):
            return "date"
        if (_BREADCRUMB.match(line) or len(_CRUMB_SEP.findall(line)) >= 2
                or _LEAD_CRUMB.match(line)):
            return "breadcrumb"
        if _SLASH_SIGNATURE.fullmatch(line):
            return "end"  # the article ends with its writer's name; a sidebar may follow
        if (not bare or _STRAY.fullmatch(bare) or _NAVIGATION.search(line)
                or (len(bare.split()) <= 8 and _ACCESSIBILITY.search(bare))
                or _IMAGE_DESCRIPTION.match(bare)
                or _IMAGE_FILE.fullmatch(bare) or _PERMALINK.search(line)
                or (line.count("|") >= 2 and any(not part.strip() for part in line.split("|")))
                or (len(line) <= 60 and _ACCOUNT.search(line)
                    and ("/" in line or "|" in line or len(line.split()) <= 3))
                or (len(line) <= 80 and (_READING_TIME.search(line) or _LOGO.fullmatch(bare)
                                         or _LANGUAGE_SWITCH.fullmatch(bare)
                                         or _CMS_CREDIT.fullmatch(bare)))):
            return "stray"
        if len(line) <= 80 and _PRESS_ROLE.fullmatch(bare):
            return "boiler"  # `Pressesprecher` under the name: the signature is notes
        if _CONTACT_LINE.search(line):
            return "boiler"  # a phone or e-mail line: kept in the notes
    if len(line) <= 500 and _COOKIES.search(line) and _CONSENT.search(line):
        return "stray"  # the site's cookie notice, wherever the copy put it
    if (is_boilerplate(item) or is_contact_block(item) or is_appeal(item)
            or is_supported_by(item)):
        return "boiler"
    if is_about(line):
        return "about"
    return "bullet" if _BULLET.match(line) else "text"


def _wrap_width(lines: list[str]) -> int | None:
    """The column a hard-wrapped text (PDF extraction) breaks at, or None for unwrapped text."""
    lengths = sorted(len(s) for s in lines if len(s) >= 25)
    if len(lengths) < 4:
        return None
    typical = lengths[int(0.9 * (len(lengths) - 1))]
    near = sum(1 for n in lengths if n >= 0.75 * typical)
    if typical > 130 or near < 0.4 * len(lengths):
        return None
    return max(n for n in lengths if n <= 1.15 * typical)


def _hard_wrapped(lines: list[str]) -> bool:
    """A document's hard-wrapped text, judged on enough lines to tell: a page's few long
    paragraphs can look wrapped at their own length."""
    return sum(1 for s in lines if len(s) >= 25) >= 8 and _wrap_width(lines) is not None


def _continues(prev: str, nxt: str, width: int | None) -> bool:
    if nxt[:1].islower() or _FRAGMENT_END.search(prev):
        return True
    if width is None:
        return False
    room = len(prev) + 1 + len(nxt.split(None, 1)[0])
    if prev.endswith(TERMINAL) and nxt[:1].isupper():
        return room > width  # the next word would have fitted: the writer broke the line
    return room > 0.8 * width


def split_paragraphs(lines: list[str], *, marked: bool = False) -> list[str]:
    """Lines → paragraphs: re-joins hard-wrapped lines; junk lines stay on their own.
    With `marked` (a PDF read by its layout: a blank line wherever the page leaves a gap),
    every line of a block continues its paragraph — a German noun's capital at a line's
    start breaks nothing."""
    clean = [" ".join(s.split()) for s in lines]
    width = _wrap_width(clean)
    paras: list[str] = []
    cur: list[str] = []
    cur_kind = "text"  # the kind of the paragraph's first line
    for s in clean:
        kind = line_kind(s) if s else "blank"
        # a funder notice or the EU's standard notice wraps like any paragraph: its
        # first line alone would leave the rest of it in the story
        # a web address alone on its line is a block of its own (a fact box's links)
        address = bool(_BARE_ADDRESS.fullmatch(s))
        if cur and ((marked and kind in ("text", "boiler", "about", "stray")
                     and (kind == "boiler") == (cur_kind == "boiler")
                     and address == bool(_BARE_ADDRESS.fullmatch(cur[-1])))
                    or (kind in ("text", "boiler", "about") and _continues(cur[-1], s, width)
                        and not (kind == "boiler" and len(s) <= 60 and LABEL_LINE.match(s)))):
            cur.append(s)
            continue
        if cur:
            paras.append(" ".join(cur))
            cur = []
        if kind == "bullet" and (m := _BULLET.match(s)) and s[0] in "*•–·▪":
            s = "- " + s[m.end():]
        if kind in ("text", "bullet", "about") or (kind == "boiler" and (len(s) >= 50 or marked)):
            cur, cur_kind = [s], kind
        elif kind != "blank":
            paras.append(s)
    if cur:
        paras.append(" ".join(cur))
    return paras


def _is_title(title: str) -> bool:
    if _MONTH_AND_YEAR.fullmatch(title.strip(" .,")):
        return False  # `Juni 2021`: an archive's month over the title
    if (_CUT_OFF.search(title) or _NOTE_LABEL.match(title) or " :: " in title
            or "://" in title):
        return False  # a teaser cut off, `>> NOTE: … http://…`, `Site :: Site in English`
    words = title.split()
    wordy = [w for w in words if sum(c.isalpha() for c in w) >= 2]
    if len(wordy) < 2 or sum(c.isalpha() for c in title) < 8:
        return False
    if len(words) > 30 or len(title) > 200 or _FRAGMENT_END.search(title):
        return False
    return not (title.endswith(".") and len(words) >= 15)


# a site's accessibility section, named on a short line (`Seção de atalhos e links de
# acessibilidade`, `Accessibility tools`)
_ACCESSIBILITY = re.compile(r"acessibilidade|accessibility|barrierefreiheit|accesibilidad"
                            r"|accessibilit[ée]|accessibilit[àa]|toegankelijkheid|tillg[äa]nglighet"
                            r"|dost[ęe]pno[śs][ćc]|saavutettavuus|akad[áa]lymentess[ée]g", re.I)
# an image's description a copy kept: `nagłówek graficzny o treści: …`, `Image with the text: …`
_IMAGE_DESCRIPTION = re.compile(
    r"(?:nag[łl][óo]wek[ \t]+graficzny|grafika|obrazek|image|graphic|picture|photo|bild|foto"
    r"|imagen|immagine)[^:\n]{0,30}?(?:o[ \t]+tre[śs]ci|with[ \t]+(?:the[ \t]+)?(?:text|words)"
    r"|mit[ \t]+(?:dem[ \t]+)?text|con[ \t]+(?:el[ \t]+|il[ \t]+)?testo|con[ \t]+el[ \t]+texto"
    r"|avec[ \t]+(?:le[ \t]+)?texte)[ \t]*:", re.I)
# a dateline of its own: the place, then the day (`Saint-Germain-en-Laye, le 9 décembre 2015`,
# `Florina, 29 Νοεμβρίου 2012`, `Berlin, den 3. März 2024`)
_PLACE_DATE = re.compile(r"[A-ZÀ-ÞΑ-ΩА-Я][\w'’.-]*(?:[ \t]+[\w'’.-]+){0,4},[ \t]+"
                         r"(?:(?:le|den|el|il|am|on|the)[ \t]+)?(.{6,40})")
# two days joined as a period: `3 avril – 24 juillet 2016`, `3–5 March 2024`, `3. bis 5. Mai`
_DATE_RANGE = re.compile(
    r"\b\d{1,2}\.?(?:[ \t]+[^\W\d_]{3,12}\.?)?(?:[ \t]+\d{4})?[ \t]*(?:[–—-]|\bau\b|\bbis\b"
    r"|\bto\b|\bal\b|\btill\b|\btot\b)[ \t]*\d{1,2}\.?[ \t]+[^\W\d_]{3,12}", re.I)
# a blog's links to the posts before and after this one: `Vorig bericht …`, `Next post …`
_PREV_NEXT = re.compile(
    r"(?:vorig(?:e)?|volgend(?:e)?)[ \t]+(?:bericht|artikel)|(?:previous|next)[ \t]+(?:post|article"
    r"|story)|article[ \t]+(?:pr[ée]c[ée]dent|suivant)|(?:vorheriger|n[äa]chster)[ \t]+(?:artikel"
    r"|beitrag)|(?:art[íi]culo|entrada|noticia)[ \t]+(?:anterior|siguiente)|articolo[ \t]+"
    r"(?:precedente|successivo)|(?:post|artigo|not[íi]cia)[ \t]+(?:anterior|seguinte)", re.I)
# an event's details under its announcement: when and where, in the story's own words
_EVENT_LABEL = re.compile(
    r"(?:zeit|ort|wann|wo|treffpunkt|when|where|venue|time|lieu|heure|quand|o[ùu]"
    r"|lugar|hora|cu[áa]ndo|d[óo]nde|luogo|ora|quando|dove|local|tijd|plaats|waar|wanneer"
    r"|tid|plats|sted|n[äa]r|var)[ \t]*:[ \t]*\S", re.I)
_BYLINE_ON = re.compile(
    r"(?:submitted|posted|published|written|publi[ée]e?|ver[öo]ffentlicht|publicad[oa]"
    r"|pubblicat[oa]|geplaatst)[ \t]+(?:by|par|von|por|da|door)[ \t]+[^\n]{1,60}?[ \t]+"
    r"(?:on|le|am|el|il|op)[ \t]+", re.I)
_MONTH_AND_YEAR = re.compile(_MONTH_START + r"[^\W\d_]{0,8}\.?[ \t]+\d{4}", re.I)
_NOTE_LABEL = re.compile(r"[>»]|(?:note|nb|n\.b\.|ps|hinweis|remarque|nota)[ \t]*:", re.I)


def _past_letterhead(lines: list[str], i: int) -> int:
    """Line `i`, or the first line after a "PRESS RELEASE" banner that follows it: a line
    above the banner is the letterhead (the organisation's name), not the title."""
    if _banner_title(lines[i]):
        return i  # `PRESS RELEASE: CLARIFYING …` over `For Immediate Release`: no letterhead
    ahead = [n for n in range(i + 1, min(len(lines), i + 6)) if lines[n]][:2]
    for n in ahead:
        if ((line_kind(lines[n]) == "banner" and not _banner_rest(lines[n]))
                or (n == ahead[0] and len(lines[i].split()) <= 6
                    and _SECTION.fullmatch(_bare(lines[n])))):
            k = next((k for k in range(n + 1, len(lines)) if lines[k]), i)
            # under the banner the story's first sentence, not a title: the line above the
            # banner was the title (`Prefeito divulga Nota para Imprensa` / `Nota a imprensa`)
            if (k != i and len(lines[k]) > 200 and _title_candidate(lines[i])
                    and not _hard_wrapped(lines)):
                return i
            return k
    return i


# a section's name set like a banner under the letterhead: `Interreg Europe` / `NEWS` / title
_SECTION = re.compile(r"news|aktuelles|actualit[ée]s?|noticias|novedades|notizie|nieuws|nyheter"
                      r"|aktualno[śs]ci|aktuality|not[íi]cias|новости"
                      # news and press releases in the EU's other languages
                      r"|press releases|pressemitteilungen|communiqu[ée]s(?: de presse)?"
                      r"|comunicati(?: stampa)?|persberichten|pressmeddelanden|nyheder"
                      r"|pressemeddelelser|tiedotteet|uutiset|ajankohtaista|h[íi]rek"
                      r"|sajt[óo]k[öo]zlem[ée]nyek|wiadomo[śs]ci|novinky|novice|novosti|vijesti"
                      r"|naujienos|jaunumi|aktualit[āa]tes|uudised|pressiteated|новини"
                      r"|ειδήσεις|νέα|ανακοινώσεις|[șş]tiri|nout[ăa][țţ]i|comunicate|not[íi]cies"
                      r"|novas|pressemeldinga[r]?|pressemeldinger", re.I)
# a site's account bar: `Ești membru? Cont nou / Autentificare`, `Log in | Register`
_ACCOUNT = re.compile(
    r"\b(?:log[ \t]?in|sign[ \t]in|register|my account|anmelden|registrieren|mein konto"
    r"|connexion|s['’]inscrire|mon compte|iniciar sesi[óo]n|registrarse|mi cuenta|accedi"
    r"|registrati|inloggen|registreren|logga in|zaloguj|zarejestruj|p[řr]ihl[áa]sit|prihl[áa]si[tť]"
    r"|bejelentkez[ée]s|regisztr[áa]ci[óo]|kirjaudu|autentificare|cont nou|prisijungti"
    r"|piesl[ēe]gties|logi sisse|вход|регистрация|σύνδεση|εγγραφή|prijava|registracija)\b", re.I)
_TITLE_BLOCK = 5
_DAY = re.compile(r"(?<!\d)\d{1,2}(?!\d)")


def _title_block(lines: list[str], i: int) -> int | None:
    """Where a title set over several lines ends: a PDF's large type wraps at a few words a
    line, with no sign in the text but what comes under it — a dated line, or the story's
    first long line. Each of its lines is short; None when the lines do not look so."""
    longest = 0
    for n in range(i, min(len(lines), i + _TITLE_BLOCK + 1)):
        s = lines[n]
        if not s:
            return None
        if n > i and ((_DAY.search(s) and _dateish(s)) or len(s) > 60
                      or _WIRE_DATELINE.fullmatch(s) or _BYLINE_ON.match(s)
                      # a month under the title, unless it ends a date (`… on 18-19`)
                      or (_MONTH_AND_YEAR.fullmatch(s.strip(" .,"))
                          and not lines[n - 1][-1:].isdigit())):
            return n
        if (len(s) > 60 or s.endswith((".", ":", ";")) or line_kind(s) not in ("text", "date")
                or (n > i and s.count(",") >= 2)):  # a byline (`Name, Role, Office`)
            return None
        if n > i and (len(lines[n - 1]) < 0.6 * longest or len(s) < 4):
            return None  # the line above was not full (it ended the title), or a scrap
        longest = max(longest, len(s))
    return None


# a wire's dateline on its own line: `53937 Schleiden (ots)`, `Bonn (dpa)`
_WIRE_DATELINE = re.compile(
    r"(?:\d{4,5}[ \t]+)?[A-ZÀ-ÞÄÖÜ][\w.'’]*(?:[ \t/-]+[\w.'’]+){0,3}[ \t]+"
    r"\((?:ots|dpa|afp|ap|epd|kna|reuters|ansa|efe|apa|sda|ats|belga|anp|tt|ntb|ritzau|pap"
    r"|čtk|ctk|mti|lusa|europa press)\)[ \t]*[-–—:]?", re.I)


def _title_at(lines: list[str], i: int) -> tuple[str, int]:
    """The title starting at line `i`, joining a PDF title broken over several lines."""
    if (end := _title_block(lines, i)) is not None and end - i > 1:
        joined = " ".join(lines[i:end])
        if len(joined) <= 250:
            return joined, end
    parts = [lines[i]]
    j = i + 1
    while j < len(lines) and len(parts) < 3:
        nxt = lines[j]
        cur = " ".join(parts)
        # a long line wrapped before its last word or two (`… as a Top-Level` / `Project`)
        wrapped_tail = (len(cur) >= 60 and len(nxt.split()) <= 2
                        and (j + 1 >= len(lines) or not lines[j + 1]))
        if (not nxt or line_kind(nxt) != "text" or len(cur) + len(nxt) > 200 or _dateish(nxt)
                or not (nxt[:1].islower() or _FRAGMENT_END.search(cur) or wrapped_tail
                        or (cur.isupper() and nxt.isupper()))):
            break
        parts.append(nxt)
        j += 1
    return " ".join(parts), j


_JUNK = frozenset({"page", "end", "banner", "date", "breadcrumb", "stray", "related", "boiler",
                   "footer"})
_HEAD_LINES = 10


def _read_head(lines: list[str], known_title: str | None
               ) -> tuple[str | None, HeadDates, int]:
    """The title, the dates of the date lines around it, and the index where the rest starts."""
    dates = HeadDates()

    def see_date(s: str, kind: str) -> None:
        if _DATE_RANGE.search(s):
            return  # `3 avril – 24 juillet 2016`: an exhibition's or event's period
        rest = s if kind == "date" else _banner_rest(s)
        if rest:
            dates.line(rest)

    i = 0
    while i < len(lines):
        kind = line_kind(lines[i])
        if (kind == "date" and _dated_title(lines, i)) or (
                kind == "banner" and _banner_title(lines[i])):
            break  # `Regierungsratssitzung vom 28.06.2021` over `• 28.06.2021`, or
            # `PRESS RELEASE: CLARIFYING KEY COUNCIL MATTERS`: the title
        if kind in ("date", "banner"):
            see_date(lines[i], kind)
        elif kind == "text" and dates.label(lines[i]):  # "Published", its date below
            i += 1
            continue
        if kind == "end":  # everything after an end marker is footer, even the first line
            return known_title, dates, len(lines)
        if kind != "blank" and kind not in _JUNK and not (
                kind == "text" and (_SECTION.fullmatch(_bare(lines[i]))
                                    or _MONTH_AND_YEAR.fullmatch(_bare(lines[i])))):
            break  # (a section's name or an archive's month atop the page is no title)
        i += 1
    if i >= len(lines):
        return known_title, dates, i
    i = _past_letterhead(lines, i)
    while i < len(lines) and (kind := line_kind(lines[i])) in _JUNK | {"blank"} and not (
            (kind == "date" and _dated_title(lines, i))
            or (kind == "banner" and _banner_title(lines[i]))):
        if kind in ("date", "banner"):  # under the banner, the date or a reading time
            see_date(lines[i], kind)
        i += 1
    if i >= len(lines):
        return known_title, dates, i
    # a hard-wrapped text (a PDF's) is no copied page: its short lines are a list, not menus
    if (known_title is None and not _hard_wrapped(lines)
            and (found := _page_title_line(lines, i)) is not None):
        i = found  # a web page's copy: the title stands by the article, not atop the menus
        dates = HeadDates()  # the menus' and teasers' dates are not the release's
        above = [n for n in range(max(0, i - 6), i) if lines[n]][-2:]
        for n in reversed(above):
            if dates.published is None and _dateish(lines[n]):
                dates.published = find_date(lines[n])
    candidate, j = _title_at(lines, i)
    if known_title is None and (under := _title_under_date(lines, j, candidate)) is not None:
        see_date(lines[under[0]], "date")
        candidate, j = _title_at(lines, under[1])  # the first line was a kicker over the date
    if known_title is None and (headline := _under_masthead(lines, j, candidate)) is not None:
        candidate, j = _title_at(lines, headline)
    if known_title is None:
        candidate = _without_banner_prefix(_BADGE.sub("", candidate))
        # `COMUNICATO STAMPA N.3 giovedì 15 novembre 2007 OGGETTO: Domani incontro …`: the
        # subject line's words are the title, its day the release's
        if (m := _SUBJECT.search(candidate)) and _is_title(subject := candidate[m.end():].strip()):
            if dates.published is None:
                dates.published = find_date(candidate[:m.start()])
            candidate = subject
    if known_title is not None:
        same = candidate.casefold() == " ".join(known_title.split()).casefold()
        title, rest_at = known_title, (j if same else i)
    elif _is_title(candidate):
        title, rest_at = candidate, j
    elif (on_its_own := _title_on_its_own(lines, i, j)) is not None:
        title, rest_at = on_its_own
    else:
        title, rest_at = None, i
    # the date line may stand a few short lines on: under a title broken over lines, a byline
    # or tags, or after a section name above the title; the story's first line ends the head
    start, text_seen = rest_at, False
    for n in range(start, min(start + _HEAD_LINES, len(lines))):
        s = lines[n]
        kind = line_kind(s)
        if kind in ("date", "banner"):  # `Pressemeddelelse • Feb 10, 2011` under the title
            see_date(s, kind)
        elif kind == "text" and dates.label(s):
            if not text_seen:
                rest_at = n + 1  # the label is no part of the story
            continue
        elif kind == "text" and s == title:
            continue
        elif (kind == "text" and dates.published is None and len(s) <= 100
              and _BYLINE_ON.match(s) and (on := find_date(s)) is not None):
            dates.published = on  # `Submitted by jtadeusz on 4 October, 2010 - 16:26`
        elif (kind == "text" and dates.published is None and len(s) <= 80
              and (m := _PLACE_DATE.fullmatch(s))
              and date_line_span(m.group(1), parse_foreign=True)):
            dates.line(m.group(1))  # `Saint-Germain-en-Laye, le 9 décembre 2015`
        elif kind == "text" and dates.published is None and len(s) <= 80 and _dateish(s):
            dates.published = find_date(s)  # `July 25, 2019 | 11:15 PM`, `jeudi 13 juin, par …`
        byline = s.count(",") >= 2 and not s.endswith(TERMINAL)  # `Name, Role, Office`
        if kind in ("related", "footer", "end") or (kind in ("text", "bullet") and not byline
                                                     and (len(s) >= 80 or (
                                                         len(s.split()) >= 6
                                                         and s.endswith(TERMINAL)))):
            # a deck (the release in two sentences, set under the title) above the date
            # line: the story starts under the date, the deck is no part of it
            if (kind == "text" and not text_seen and title is not None
                    and (d := _date_under(lines, n)) is not None):
                see_date(lines[d], "date")
                rest_at = d + 1
            break
        text_seen |= kind in ("text", "bullet")
    return title, dates, rest_at


def _without_banner_prefix(title: str) -> str:
    """`Sajtóközlemény - 76,6 millió eurós …` → the headline: a banner a copy ran into the
    title before a dash or colon, when what follows reads as a title on its own."""
    m = _BANNER.match(title)
    if not m:
        return title
    rest = title[m.end():]
    head = rest.lstrip(" \t")
    if not head[:1] or head[0] not in "-–—:|":
        return title
    rest = head[1:].strip()
    return rest if len(rest.split()) >= 3 and _is_title(rest) else title


# a site's "featured" badge run into the end of the headline by a copy
_BADGE = re.compile(r"[ \t]+(?-i:Destacad[oa]|Featured|En vedette|Hervorgehoben|In evidenza"
                    r"|Uitgelicht|Em destaque|Wyróżnione|Utvald)$")


def _under_masthead(lines: list[str], j: int, first: str) -> int | None:
    """Where the headline is when the first line is a masthead or a programme's name
    (`idw - Informationsdienst Wissenschaft`, `GRENSOVERSCHRIJDEND SAMENWERKINGSPROGRAMMA`):
    a few words, then within three lines, before any date line, a title-like line of at
    least twice as many words that the date or the story's first paragraph follows. None for
    any other head."""
    if len(first.split()) > 4 or _hard_wrapped(lines):
        return None  # (a PDF's wrapped lines under its headline are the story's)
    ahead = [n for n in range(j, min(len(lines), j + 8)) if lines[n]][:4]
    for pos, n in enumerate(ahead[:3]):
        s = lines[n]
        if line_kind(s) == "date":
            return None  # a title over its date: the head the other rules read
        if (not _title_candidate(s) or s.endswith(".")
                or len(s.split()) < min(2 * len(first.split()), len(first.split()) + 2)):
            continue
        nxt = ahead[pos + 1] if pos + 1 < len(ahead) else None
        if nxt is not None and (_dated_line(lines[nxt])
                                or (line_kind(lines[nxt]) == "text"
                                    and _is_real_paragraph(lines[nxt]))):
            return n
    return None


def _title_on_its_own(lines: list[str], i: int, j: int) -> tuple[str, int] | None:
    """Where the title is when the lines read from `i` made none: the first line alone, when a
    deck under it made the block too long to be a title, or else the next line, when the
    first was a note or the site's name bar (`>> NOTE: … http://…`, `IMII :: Millennium
    Institute …`) — a title-like line that the story, a deck or a date line follows."""
    if j - i > 1 and _title_candidate(lines[i]) and not lines[i].endswith(TERMINAL):
        return lines[i], i + 1
    if j - i != 1 or len(lines[i]) > 200:
        return None
    nxt = next((n for n in range(j, min(len(lines), j + 6))
                if lines[n].strip() and line_kind(lines[n]) not in ("stray", "breadcrumb")),
               None)
    if nxt is None or not _title_candidate(lines[nxt]):
        return None
    after = next((n for n in range(nxt + 1, min(len(lines), nxt + 4)) if lines[n].strip()), None)
    if after is None or line_kind(lines[after]) not in ("text", "date"):
        return None
    joined, end = _title_at(lines, nxt)  # a title broken over lines, joined again
    return (joined, end) if _is_title(joined) else (lines[nxt], nxt + 1)


_SUBJECT = re.compile(r"(?:^|[ \t])(?:oggetto|objet|asunto|assunto|betreff|subject|onderwerp"
                      r"|[äa]mne|emne|przedmiot|p[řr]edm[ěe]t)[ \t]*:[ \t]*", re.I)


def _banner_title(line: str) -> bool:
    """`PRESS RELEASE: CLARIFYING KEY COUNCIL MATTERS`: a banner with a headline after its
    colon or dash — three words or more that are no date and no other banner."""
    if not (m := _BANNER.match(line)):
        return False
    rest = line[m.end():].lstrip(" \t")
    if not rest[:1] or rest[0] not in ":-–—|":
        return False
    rest = rest[1:].strip()
    return (len(rest.split()) >= 3 and _is_title(rest) and not _BANNER.match(rest)
            and not date_line_span(rest, parse_foreign=False))


def _dated_title(lines: list[str], i: int) -> bool:
    """A title that names its day (`Regierungsratssitzung vom 28.06.2021`) reads as a date
    line; the page's own date line under it, the same day alone, tells it apart."""
    words = lines[i].split()
    nxt = next((lines[n] for n in range(i + 1, min(len(lines), i + 4)) if lines[n]), "")
    if not nxt or line_kind(nxt) != "date" or len(nxt.split()) > 3:
        return False
    here, there = date_line_span(lines[i], parse_foreign=False), date_line_span(
        nxt, parse_foreign=False)
    return (here is not None and there is not None and here[2] == there[2]
            and any(sum(c.isalpha() for c in w) >= 8 for w in words))


def _dated_line(s: str) -> bool:
    """A date line, or a banner with its date (`Pressemeddelelse • Feb 10, 2011`)."""
    kind = line_kind(s)
    return kind == "date" or (kind == "banner" and bool(_banner_rest(s))
                              and bool(date_line_span(s, parse_foreign=False)))


def _title_under_date(lines: list[str], j: int, first: str) -> tuple[int, int] | None:
    """Where the real title is when the first line is a kicker (`Article from the City
    University`) and a portal's preamble (a sentence on where the text comes from) stand over
    a date line, and the headline stands under the date: a title-like line longer than the first,
    followed by the story's first paragraph: (the date line, the title line). None for any
    other head."""
    ahead = [n for n in range(j, min(len(lines), j + 12)) if lines[n]][:5]
    for pos, n in enumerate(ahead[:3]):
        if line_kind(lines[n]) != "date":
            continue
        # the preamble is sentences (`This article is based on a press release.`), not a
        # byline or a subheadline: a title, its byline, the date and a subheadline stay so
        if pos == 0 or pos + 2 >= len(ahead) or not all(
                lines[k].endswith(TERMINAL) for k in ahead[:pos]):
            return None
        title, story = lines[ahead[pos + 1]], lines[ahead[pos + 2]]
        if (ahead[pos + 1] == n + 1 or not _title_candidate(title) or len(title) <= len(first)
                or line_kind(story) != "text" or not _is_real_paragraph(story)):
            return None
        return n, ahead[pos + 1]
    return None


def _date_under(lines: list[str], n: int) -> int | None:
    """The date line right under paragraph `n` (blank lines between), when the story's first
    paragraph follows it; else None."""
    below = [k for k in range(n + 1, min(len(lines), n + 9))
             if lines[k] and line_kind(lines[k]) not in ("stray", "breadcrumb")][:2]
    if (len(below) == 2 and line_kind(lines[below[0]]) == "date"
            and line_kind(lines[below[1]]) == "text" and _is_real_paragraph(lines[below[1]])):
        return below[0]
    return None


_BYLINE = re.compile(r"(?:by|von|par|por|автор|&)[ \t]", re.I)
_CAPTION = re.compile(r"\b(?:photo|foto|фото|image|bild|credit|crédit|istock|getty|reuters|afp"
                      r"|dpa|shutterstock)\b|©|\.(?:jpe?g|png|gif|webp)\b", re.I)
_MENU_WORDS = 4
_READ_MORE = re.compile(r"read more|more|continue reading|weiter ?lesen|mehr(?: lesen| erfahren)?"
                        r"|lire (?:la suite|plus)|en savoir plus|leer m[áa]s|ver m[áa]s"
                        r"|читать (?:далее|дальше)|подробнее", re.I)


def _article_start(lines: list[str]) -> int | None:
    """The first line of the longest run of real paragraphs: on a copied web page, the
    article itself rather than the teasers and menus around it."""
    best, best_size = None, 0
    start, size, gap = None, 0, 0
    listing = False  # in an enumeration the article runs through: `einen Planeten,` `und …`
    for n, s in enumerate(lines):
        if not s:
            continue
        if _is_body_line(s):
            if start is None:
                start, size = n, 0
            size, gap = size + len(s), 0
            if size > best_size:
                best, best_size = start, size
            listing = s.endswith(":")
        elif start is not None:
            if listing and len(s) <= 160:
                listing = bool(_FRAGMENT_END.search(s))  # its last item ends it
                continue
            gap += 1
            if gap > 2:
                start, size, gap = None, 0, 0
    return best


_QUOTED = re.compile(r"[«“\"„].*[»”\"]$")


def _is_body_line(s: str) -> bool:
    """A line of the article's text, not a headline: headlines end with "!", "?" or a
    closing quote as often as without a stop, and are short."""
    words = len(s.split())
    if words < 20 and (s.endswith(("!", "?")) or _QUOTED.match(s)):
        return False
    return _is_real_paragraph(s) and line_kind(s) == "text"


def _dateish(line: str) -> bool:
    """A date line, or a line that opens with a date (`22.05.2014 - Gemeinde`)."""
    line = line.rstrip(" .,")
    if date_line_span(line, parse_foreign=False):
        return True
    words = line.split()
    return any(date_line_span(" ".join(words[:k]), parse_foreign=False)
               for k in range(1, min(4, len(words) - 1) + 1))


def _page_title_line(lines: list[str], first: int) -> int | None:
    """Where the title of a copied web page is, when menus come before it; None for a
    release that starts with its title (the first line then is the title, as before).

    Menus are runs of short lines. The article is the longest run of real paragraphs; its
    title is a title-like line shortly before it, next to a date, not a byline or a photo
    caption: each candidate is scored on those signs and the best one wins."""
    start = _article_start(lines)
    if start is None:
        return None
    head = [n for n in range(first, start) if lines[n]]
    short = sum(1 for n in head if len(lines[n].split()) <= _MENU_WORDS)
    if len(head) <= 8 or short < 0.5 * len(head):
        return None
    window = head[-15:]
    best, best_score, best_pos = None, 0, 0
    scores: dict[int, int] = {}
    for pos, n in enumerate(window):
        s = lines[n]
        if not _title_candidate(s):
            continue
        distance = len(window) - 1 - pos
        score = 3 if distance == 0 else 2 if distance <= 3 else 1 if distance <= 6 else 0
        words = s.split()
        after = [lines[k] for k in window[pos + 1:pos + 4]]
        before = [lines[k] for k in window[max(0, pos - 2):pos]]
        if any(_dateish(x) for x in after):
            score += 3
        elif any(_dateish(x) for x in before):
            score += 2
        score += len(words) >= 5
        if s.count(",") >= 2 or _BYLINE.match(s):
            score -= 2
        if _CAPTION.search(s):
            score -= 3
        if any(_READ_MORE.fullmatch(_bare(x)) for x in after[:2]):
            score -= 4  # a teaser of another release, with its "Read more" link
        if any(line_kind(lines[k]) == "related" for k in window[:pos]):
            score -= 2  # in a "Related news" list
        scores[pos] = score
        if score >= best_score and score > 0:
            best, best_score, best_pos = n, score, pos
    # a headline over its subheadline: the line right above the best one, as good or nearly —
    # unless it is a kicker over the headline (`Deutsche G7-Präsidentschaft 2022`): a
    # topic's few words, not half as many as the headline's
    if best is not None and scores.get(best_pos - 1, -99) >= best_score - 2:
        above = len(lines[window[best_pos - 1]].split())
        if not (above <= 4 and 2 * above <= len(lines[best].split())):
            best = window[best_pos - 1]
    return best


def _title_candidate(s: str) -> bool:
    return (len(s.split()) >= 3 and not s.endswith(":") and line_kind(s) == "text"
            and _is_title(s) and not _dateish(s))


_GAP = re.compile(r"[ \t]{3,}")
# a page's date run into the title beside it by a copy that lost the space between them:
# `27.01.2022MineralölINFO November 2021`
_GLUED_DATE = re.compile(r"[ \t]*(\d{1,2}\.\d{1,2}\.\d{4}|\d{4}-\d{2}-\d{2}|\d{1,2}/\d{1,2}/\d{4}"
                         r"|\d{1,2}\.?[ \t]+(?:de[ \t]+)?" + _MONTH_START + r"[^\W\d_]{0,8}\.?,?"
                         r"[ \t]+(?:de[ \t]+)?\d{4})"
                         r"(?=[^\W\d_])(?![гr]\.?(?![^\W\d_]))", re.I)  # not `2023г.`, `2023r.`


# … or glued on both sides, inside a page's kicker: `Presseartikel9. Mai 2016Vertretung in …`
_GLUED_INSIDE = re.compile(r"(?<=[^\W\d_])(\d{1,2}\.?[ \t]+" + _MONTH_START + r"[^\W\d_]{0,8}\.?"
                           r"[ \t]+\d{4}|\d{1,2}\.\d{1,2}\.\d{4})(?=[^\W\d_])", re.I)


# a sidebar's heading a copy ran into the story's last sentence: `… 2016. godine.Najave`
_GLUED_HEADING = re.compile(r"(?<=[^\W\d_A-ZÀ-Þ]\.)[A-ZÀ-ÞА-ЯΑ-Ω][^\W\d_]{3,30}[ \t]*$")


# a page's date label glued to its date
_GLUED_LABEL = re.compile(r"^([ \t]*(?:published|updated|posted|publi[ée]e?|ver[öo]ffentlicht"
                          r"|aktualisiert|publicad[oa]|pubblicato|gepubliceerd|publicerad)"
                          r"(?:[ \t]+(?:on|le|am|el|il|op|em))?)(?=\d)", re.I)
# a reading-time label opening the story's first line, with the date after it
_LEADING_READING_TIME = re.compile(
    r"[ \t]*(\d{1,3}[ \t]*['’][ \t]*di[ \t]+lettura|\d{1,3}[ \t]*min(?:ute)?s?[ \t]+read"
    r"|(?:lesedauer|lesezeit|temps de lecture|tiempo de lectura)[ \t]*:?[ \t]*\d{1,3}[ \t]*min\.?)"
    r"[ \t]+(?:(\d{1,2}[./]\d{1,2}[./]\d{4})[ \t]*[-–—][ \t]*)?(?=\S)", re.I)


def _unglue_dates(lines: list[str]) -> list[str]:
    """A short line that opens with a numeric date glued to a word: the date on a line of its
    own, the rest under it; a date glued to words on both sides stands between them. A word
    glued after a sentence's full stop at the end of a long line goes to a line of its own."""
    out: list[str] = []
    for line in lines:
        if m := _GLUED_LABEL.match(line):  # `Published3rd April 2020`
            line = f"{m.group(1)} {line[m.end():]}"
        if m := _LEADING_READING_TIME.match(line):  # `1' di lettura 30/03/2009 - Gran …`
            out.extend([m.group(1), *([m.group(2)] if m.group(2) else [])])
            line = line[m.end():]
        if len(line) >= 80 and (m := _GLUED_HEADING.search(line, len(line) - 40)):
            out.extend([line[:m.start()], m.group(0).strip()])
        elif len(line) <= 200 and (m := _GLUED_DATE.match(line)):
            out.extend([m.group(1), line[m.end():]])
        elif len(line) <= 200 and (m := _GLUED_INSIDE.search(line)):
            out.extend([line[:m.start()], m.group(1), line[m.end():]])
        else:
            out.append(line)
    return out


def _drop_running_heads(raw_lines: list[str]) -> list[str]:
    """Whitespace-normalised lines without a PDF's running headers and footers: a line laid out
    in columns around a banner or page number, a repeated banner line, and later repeats of
    any other short line (the title printed again atop page 2)."""
    lines = [" ".join(raw.split()) for raw in raw_lines]
    once: Counter[str] | None = None
    for n, raw in enumerate(raw_lines):
        cells = _GAP.split(raw.strip()) if len(raw) <= 200 else [raw]
        if len(cells) < 2:
            continue
        kinds = [line_kind(" ".join(c.split())) for c in cells]
        if "page" in kinds:
            lines[n] = ""
        elif "banner" in kinds:
            # a banner and its date in columns, once (`Pressemeddelelse   •   Feb 10, 2011`),
            # is the release's label; on every page it is a running head
            once = once if once is not None else Counter(lines)
            if once[lines[n]] > 1 or not date_line_span(lines[n], parse_foreign=False):
                lines[n] = ""
    counts: dict[str, int] = {}
    for s in lines:
        if 15 <= len(s) <= 100:
            counts[s] = counts.get(s, 0) + 1
    # a page's copy is not hard-wrapped: a line seen before there is the title in the
    # breadcrumb then over the article, not a running head; only the next line repeating it
    # is dropped
    paged = _wrap_width(lines) is not None
    seen: set[str] = set()
    last = ""
    for n, s in enumerate(lines):
        if counts.get(s, 0) > 1 and ((s in seen and (paged or s == last)) or _BANNER.search(s)):
            lines[n] = ""
        seen.add(s)
        last = s or last
    return lines


def _is_real_paragraph(par: str) -> bool:
    words = len(par.split())
    return (words >= 6 and par.endswith(TERMINAL)) or words >= 20


_DROPPED = frozenset({"page", "end", "stray", "breadcrumb", "banner", "blank"})


def partition(paras: list[str], kinds: list[str] | None = None, *, keep_other: bool = False
              ) -> tuple[list[int], list[int]]:
    """Which paragraphs are the story and which are notes, by index.

    The story runs to the first footer heading, "related news" line or end marker, or to
    the first footer without a heading (an organisation describing itself after the story,
    contact details or a funder notice in the release's second half); what follows is notes
    (about-us blocks, contacts), except page furniture and the "related" lists, which belong
    to the web page, not the release. A run of six or more menu lines (a copied page's
    menus) under a story of two paragraphs or more ends it too. Phone, e-mail, address,
    funder and social lines are notes wherever they stand. With `keep_other` (text a feed
    already cleaned), other lines before the notes stay in the story instead of being
    dropped, but for a "PRESS RELEASE" banner above the first line of the story.
    """
    kinds = kinds if kinds is not None else [line_kind(p) for p in paras]
    story: list[int] = []
    notes: list[int] = []
    tail = False
    skipping = False
    # how many real story paragraphs stand at or after each index, up to the first marker
    story_after = [0] * (len(kinds) + 1)
    marked_after = [False] * (len(kinds) + 1)  # an end mark or footer heading still to come
    # boilerplate (a trademark line, contacts, a funder notice) before that mark: the footer
    # has begun above the mark, which is then only its last part (`Contact: … Tel: …`)
    boiler_first = [False] * (len(kinds) + 1)
    # how many menu items (a page's short links: `Natura`, `Il Territorio`) run from each index
    menu_run = [0] * (len(kinds) + 1)
    for n in range(len(kinds) - 1, -1, -1):
        marked_after[n] = marked_after[n + 1] or kinds[n] in ("footer", "end")
        boiler_first[n] = kinds[n] == "boiler" or (
            boiler_first[n + 1] and kinds[n] not in ("footer", "end"))
        real = kinds[n] == "text" and _is_real_paragraph(paras[n])
        story_after[n] = 0 if kinds[n] in ("footer", "related", "end") else \
            story_after[n + 1] + real
        menu_run[n] = menu_run[n + 1] + 1 if _is_menu_item(paras[n], kinds[n]) else 0
    for n, kind in enumerate(kinds):
        if kind in ("footer", "related", "end"):
            tail = True
            skipping = kind == "related"
            if kind == "footer":
                notes.append(n)
            continue
        if kind == "text" and _EDIT_LABEL.fullmatch(_bare(paras[n])):
            continue
        if menu_run[n] >= _MENU_RUN and len(story) >= 2 and not keep_other:
            # a page's menus under the story end it; kept with the notes, where the review
            # page shows them, since a document's list of short lines would look the same
            tail = True
        if skipping or (kind in _DROPPED and (tail or not keep_other or kind == "blank"
                                              or (kind == "banner" and not story))):
            continue  # a feed's text keeps its lines, but not a banner atop the story
        # an organisation describing itself after the story, or contact details or a
        # funder notice in the release's second half, start its footer, heading or not —
        # unless the story goes on after them (a story may describe another organisation)
        # where the writer marked the story's end further on, the mark is trusted instead
        ends_story = story and story_after[n + 1] <= 1 and (
            not marked_after[n + 1] or boiler_first[n + 1])
        if kind == "about" and ends_story:
            tail = True
        if kind == "boiler" and not tail and story and story_after[n + 1] \
                and sends_to_address(paras[n]):
            story.append(n)  # `Send your entry to award@…` with the story going on after it
        elif kind == "boiler" or tail:
            notes.append(n)
            tail = tail or bool(ends_story and len(story) >= 2 and 2 * n >= len(kinds))
        elif keep_other or kind in ("text", "bullet", "date", "about"):
            story.append(n)
    # a signature block (`Delegation of the EU to …` above its address and phone) has no
    # heading: short lines at the story's end, followed by notes, belong to the notes
    while story and notes and notes[-1] > story[-1] and _is_signature(paras[story[-1]]):
        notes.append(story.pop())
    if not keep_other:
        notes += _trailing_furniture(paras, kinds, story)
    notes.sort()
    return story, notes


def _trailing_furniture(paras: list[str], kinds: list[str], story: list[int]) -> list[int]:
    """Short lines under the story's last sentence, taken out of `story` (and returned): a
    copied page's "see more", a share or comment label, a caption, a sidebar's heading, in
    whatever language, since a story ends on a sentence. Kept are a list the last sentence
    introduces (it ends with a colon), list items, lines that carry a link and a sentence
    that lacks only its full stop (eight words or more, running lower-case words)."""
    end = len(story)
    while end and not _is_real_paragraph(paras[story[end - 1]]):
        end -= 1
    if not end or end == len(story) or paras[story[end - 1]].endswith(":"):
        return []
    tail = story[end:]
    if any(kinds[n] == "bullet" or paras[n].endswith(TERMINAL) or _BARE_ADDRESS.search(paras[n])
           or len(paras[n]) > 100 or _runs_on(paras[n])
           or (paras[n].endswith(":") and len(paras[n].split()) >= 4) for n in tail):
        return []
    del story[end:]
    return tail


_MENU_RUN = 6


def _is_menu_item(par: str, kind: str) -> bool:
    """A page's menu entry copied as a line: a few words, no sentence, no list mark."""
    return (kind in ("text", "stray", "breadcrumb") and len(par.split()) <= 8
            and not par.endswith(TERMINAL) and "\n" not in par
            and 2 * sum(c.isdigit() for c in par) < sum(c.isalpha() for c in par))  # no table


def _runs_on(par: str) -> bool:
    """A sentence, if without its full stop: eight words or more, most after the first in
    lower case (a caption or a heading capitalises its names and words)."""
    words = [w for w in par.split()[1:] if w[:1].isalpha()]
    return len(par.split()) >= 8 and 3 * sum(w[:1].islower() for w in words) >= 2 * len(words)


def _is_signature(par: str) -> bool:
    text = " ".join(par.split())
    return (0 < len(text) <= 100 and not text.endswith(TERMINAL)
            and not _BULLET.match(text) and not _EVENT_LABEL.match(text)
            and "\n" not in par)


def _body_paragraphs(paras: list[str], title: str | None) -> tuple[list[str], list[str]]:
    """From the lede (first real paragraph) to the footer, without junk in between; and
    the notes: footers and boilerplate found on the way."""
    kinds = [line_kind(p) for p in paras]
    # a short line three times or more (`Pulsa`, `Share`) is a page's buttons, never a story
    seen = Counter(p for p in paras if 0 < len(p) <= 60)
    kinds = ["stray" if seen.get(p, 0) >= 3 else k for p, k in zip(paras, kinds, strict=True)]
    folded_title = title.casefold() if title else None
    starts = [n for n, (p, k) in enumerate(zip(paras, kinds, strict=True))
              if k == "text" and p.casefold() != folded_title]
    end = next((n for n, k in enumerate(kinds) if k == "end"), len(paras))
    real = [n for n in starts if n < end and _is_real_paragraph(paras[n])]
    if not real and not [n for n in starts if n < end]:
        _, notes = partition(paras[end:], kinds[end:])
        return [], [paras[end + n] for n in notes]
    # no real paragraph: the first that can open a story (as `lede_of` picks the lede, so
    # the body starts with it), else the first there is
    opening = [n for n in starts if n < end]
    first = real[0] if real else next((n for n in opening if is_lede(paras[n])), opening[0])
    # photo captions under the title (`L’intervento di Massimo Terzi e Monica Abbiati.`):
    # two or more sentences of ten words or fewer over the story's long first paragraph (a
    # short lede alone over it stays)
    long_at = next((n for n in real if first < n <= first + 4
                    and len(paras[n].split()) >= 25), None)
    if (real and first == real[0] and long_at is not None and long_at >= first + 2
            and all(len(paras[n].split()) <= 10 for n in range(first, long_at))):
        real = [n for n in real if n >= long_at]
        first = long_at
    # a subheadline set apart above the story: no full stop, and the story's first
    # paragraph right after it has one
    if (real and not paras[first].endswith((*TERMINAL, ":")) and len(paras[first].split()) <= 45
            and len(real) > 1
            and real[1] <= first + 2 and paras[real[1]].endswith(TERMINAL)):
        first = real[1]
    # `Wolfgang Weber, chair, on the draft law:` above the quote it introduces opens the story
    if (first > 0 and kinds[first - 1] == "text" and paras[first - 1].endswith(":")
            and len(paras[first - 1].split()) >= 6 and paras[first][:1] in _QUOTE_MARKS):
        first -= 1
    _mark_about_runs(paras, kinds, first)
    story, notes = partition(paras[first:], kinds[first:])
    # contact lines above the story (a PDF's fact box) are notes too, not lost
    head_notes = [p for p, k in zip(paras[:first], kinds[:first], strict=True) if k == "boiler"]
    return [paras[first + n] for n in story], head_notes + [paras[first + n] for n in notes]


def _mark_about_runs(paras: list[str], kinds: list[str], first: int) -> None:
    """An about-block without its heading, told in several paragraphs: one defines a name
    (`The Build Service is an open … platform`) in the release's second half, and every
    paragraph after it opens with that name or, short, names it again. The block is the
    footer: each of its paragraphs is marked `about`."""
    for n in range(first + 2, len(paras)):
        if kinds[n] != "text" or 2 * n < len(paras) or not (name := defined_subject(paras[n])):
            continue
        rest = [k for k in range(n + 1, len(paras)) if kinds[k] in ("text", "about")]
        opens = [k for k in rest if without_article(paras[k]).startswith(name)]
        names = [k for k in rest if name in paras[k] and len(paras[k].split()) <= 30]
        if opens and set(rest) <= set(opens) | set(names):
            for k in (n, *rest):
                kinds[k] = "about"
            return



def _join_body(paras: list[str]) -> str:
    """Paragraphs apart by a blank line, list items by a newline; marker lines never survive."""
    kept = [p for p in paras if not _ANY_MARKER.search(p)]
    out: list[str] = []
    for n, p in enumerate(kept):
        if n:
            both_items = _BULLET.match(p) and _BULLET.match(kept[n - 1])
            out.append("\n" if both_items else "\n\n")
        out.append(p)
    return "".join(out)


def heading_in(body: str) -> str | None:
    """The headline of a release whose head gave none, when the page set it under a notice
    (`För att förhindra spridning …` / `Igår invigdes evakueringspaviljongen` / the story): a
    short line among the body's first paragraphs, not the first, without a full stop, that a
    real paragraph follows. The body stays as it is; the title is a guess the release is
    held for."""
    paras = [p for p in re.split(r"\n[ \t]*\n", body) if p.strip()][:5]
    for k in range(1, len(paras) - 1):
        p = " ".join(paras[k].split())
        if (_title_candidate(p) and not p.endswith((*TERMINAL, ":")) and len(p.split()) <= 15
                and not _BULLET.match(p) and _is_real_paragraph(paras[k + 1])):
            return p
    return None


def _clean_link(raw: str) -> str | None:
    end = len(raw)
    unmatched = raw.count(")") - raw.count("(")
    while end:
        last = raw[end - 1]
        if last in _LINK_TRAIL or (last == ")" and unmatched > 0):
            unmatched -= last == ")"
            end -= 1
        else:
            break
    url = raw[:end]
    if url.lower().startswith("www."):
        url = "https://" + url
    host = url.split("://", 1)[-1].split("/", 1)[0]
    return url if "." in host.strip(".") or host.startswith("localhost") else None


def find_links(text: str) -> list[str]:
    """Every http(s) URL and bare `www.` address, cleaned and de-duplicated in order."""
    seen: dict[str, None] = {}
    for m in _LINK.finditer(_U_TAG.sub("", text)):
        url = _clean_link(m.group(0))
        if url:
            seen.setdefault(url, None)
    return list(seen)


def extract_text(text: str, *, known_title: str | None = None, marked: bool = False
                 ) -> Extracted:
    """Title, date, lede, body and links of a pasted page or PDF extraction.

    `known_title` (from HTML or front matter) replaces title detection; a leading line equal
    to it is dropped from the body.
    """
    if not isinstance(text, str):
        text = str(text)
    text = rejoin_hyphenation(normalise(text))
    lines = _drop_running_heads(_unglue_dates(text.split("\n")))
    title, dates, rest_at = _read_head(lines, known_title)
    paras, notes = _body_paragraphs(split_paragraphs(lines[rest_at:], marked=marked), title)
    found_date = dates.published
    if found_date is None and paras:  # not from a period (`3 avril – 24 juillet 2016`)
        found_date = find_date(_DATE_RANGE.sub(" ", " ".join(paras[:2])[:4000]))
    if found_date is None:  # a "Last updated" date only when the release gives no other
        found_date = dates.updated()
    if found_date is None:
        found_date = _tail_date(lines[rest_at:])
    body = _join_body(paras)
    lede = lede_of(body)
    return Extracted(title=title, date=found_date, lede=lede, body=body, links=find_links(text),
                     notes=join_notes(notes))


def _tail_date(lines: list[str]) -> date | None:
    """A blog's date set under the article, run into its category tag (`17 Jun 2008
    Regionalpolitik`): a short line that opens with a date, when nothing above gave one."""
    for s in lines:
        if s and len(s.split()) <= 6 and not s.endswith(TERMINAL) and _dateish(s):
            return find_date(s)
    return None


_NOT_LEDE = re.compile(
    # a salutation, a byline or translator's credit, an editor's note, a photo caption
    r"(?:dear|liebe|lieber|sehr geehrte|chers?|ch[èe]re?s?|querid[oa]s?|estimad[oa]s?"
    r"|дорог[а-я]+|уважаем[а-я]+)\b[^.!?\n]{0,60}[,!:]?$"
    r"|(?:authors?|autor(?:es|en|in)?|auteur(?:e|s)?|by|von|par|por|автор[ы]?|translat(?:ed by|ion)"
    r"|traducci[óo]n|[üu]bersetzung|traduction|перевод)\b[ \t:]"
    r"|(?:editor['’]?s?[ \t]+note|note[ \t]+(?:to|for)[ \t]+editors|nota[ \t]+del[ \t]+editor"
    r"|note[ \t]+de[ \t]+la[ \t]+r[ée]daction|anmerkung[ \t]+der[ \t]+redaktion"
    r"|примечание[ \t]+редакци[а-я]+|update|aktualisierung|mise[ \t]+[àa][ \t]+jour)\b"
    r"|(?:photo|foto|фото|image|bild|caption|pie de foto|légende)[ \t]*(?:credit)?[ \t]*:"
    r"|[¡!]?(?:(?:mil|many|special|big)[ \t]+)?(?:thanks|thank you|gracias|merci|danke|спасибо)\b"
    # the rest of a sentence broken off by a copy's reading order: `(assemblage) of …`
    r"|\((?!\d{1,2}[./]\d{1,2}[./]\d{2,4}\))[^)\n]{0,60}\)(?:[ \t]+[a-zà-öø-ÿа-яё]|[ \t]*[,;])|[,;]"
    # a label over a list: `Artists: Ana Alenso, Marco Barotti, …`
    r"|[\w*]{2,25}(?:[ \t][\w*]{2,25}){0,3}:[ \t][^.:\n]{0,150},[^.:\n]{0,150},",
    re.I)
_LANGUAGES = frozenset((
    "english", "deutsch", "français", "francais", "español", "espanol", "русский", "italiano",
    "português", "nederlands", "polski", "en", "de", "fr", "es", "ru", "it", "pt", "nl", "pl",
    "|", "/", "·"))


# a group photo's caption names people in order: `Back row, from left to right: …`
_LEFT_TO_RIGHT = re.compile(
    r"\b(?:from )?left to right\b|\(l-r\)|\bde izquierda a derecha\b"
    r"|\bvon links nach rechts\b|\bv\.[ \t]?l\.[ \t]?n\.[ \t]?r\.|\bde gauche [àa] droite\b"
    r"|\bda sinistra (?:a|verso) destra\b|\bda esquerda para a direita\b"
    r"|\bvan links naar rechts\b|\bfr[åa]n v[äa]nster\b|\bod lewej(?: do prawej\b|:)"
    r"|\bzleva doprava\b|слева направо", re.I)
# a teaser cut off mid-sentence with an ellipsis: the story is told again in full below it
_CUT_OFF = re.compile(r"[^\W\d_](?:\.\.\.|…)$")


def is_lede(par: str) -> bool:
    """Whether a paragraph can open the story: not a salutation, byline, editor's note,
    photo caption, language switcher, a label ending in a colon or a teaser cut off."""
    if _NOT_LEDE.match(par) or (par.rstrip().endswith(":") and len(par.split()) <= 5):
        return False
    if _LEFT_TO_RIGHT.search(par[:600]) or _CUT_OFF.search(par.rstrip()):
        return False
    words = par.casefold().replace(",", " ").split()
    return not (words and len(words) <= 12 and all(w in _LANGUAGES for w in words))


_QUOTE_MARKS = "„“\"«‚‘»"


def _introduces(par: str) -> bool:
    """`Wolfgang Weber, chair, on the draft law:` — a sentence that introduces a quote."""
    return par.endswith(":") and len(par.split()) >= 6


def lede_of(body: str, *, headings: frozenset[str] = frozenset()) -> str:
    """The story's first real paragraph: its opening sentence(s), as the posts quote it;
    never one of the page's `headings` (a subheadline set in an `<h2>`)."""
    paras = [p for p in re.split(r"\n[ \t]*\n|\n(?=- )", body)
             if p.strip() and " ".join(p.split()) not in headings]
    prose = [p for p in paras if not _BULLET.match(p.strip())]
    # a list of highlights opens some releases: the prose is the lede, a real paragraph first
    for wanted in (lambda p: (_is_real_paragraph(p) or _introduces(p)) and is_lede(p), is_lede):
        candidates = prose or paras
        for k, p in enumerate(candidates):
            if wanted(p.strip()):
                p = _deck_over_dateline(p, candidates[k + 1:k + 2])
                return _without_banner(p.strip().split("\n", 1)[0])
    return _without_banner(paras[0].strip().split("\n", 1)[0]) if paras else ""


# `BOLZANO (USP). La …`, `SAN FRANCISCO, Feb. 10, 2016 — The …`, `Lisboa, 15 set 2017
# (Ecclesia) – O …`: where the story itself begins, after the place (and day) it comes from
_DATELINE = re.compile(
    r"[A-ZÀ-ÖØ-Þ][A-ZÀ-ÖØ-Þ0-9.'’ -]{1,40}(?:,[ \t][^\n–—]{1,40}?)?[ \t]*\([^)\n]{2,20}\)"
    r"[ \t]*[.:,–—-][ \t]"
    r"|[A-ZÀ-ÖØ-Þ][A-ZÀ-ÖØ-Þ0-9.'’ ]{1,40}(?:,[ \t][^\n–—]{1,40}?)?[ \t]+[–—-][ \t]"
    r"|[A-ZÀ-ÖØ-Þ][\w.'’-]{1,25}(?:[ \t][A-ZÀ-ÖØ-Þ][\w.'’-]{1,25}){0,2},[ \t]+[^\n–—]{0,25}\d"
    r"[^\n–—]{0,25}?"
    r"(?:[ \t]*\([^)\n]{2,20}\))?[ \t]+[–—-][ \t]")


def _deck_over_dateline(par: str, after: list[str]) -> str:
    """The paragraph after `par` when that one opens with a dateline and `par` does not: a
    deck (the release in a sentence or two, set over the story) is no lede."""
    if (after and len(par.split()) <= 50 and not _DATELINE.match(par.strip())
            and _DATELINE.match(after[0].strip()) and is_lede(after[0].strip())):
        return after[0]
    return par


def _without_banner(line: str) -> str:
    """`Pressemitteilung vom 25. Januar 2022 | Berlin – Die …` → `Berlin – Die …`: a
    "press release" label run into the first paragraph, up to its bar, is no part of it."""
    if not (m := _BANNER.match(line)):
        return line
    bar = line.find("|", m.end(), m.end() + 60)
    rest = line[bar + 1:].strip() if bar >= 0 else ""
    return rest if len(rest.split()) >= 6 else line


def join_notes(paras: list[str]) -> str:
    """Notes as text: paragraphs apart by a blank line, contact lines kept together."""
    out: list[str] = []
    for n, p in enumerate(paras):
        if n:
            short = len(p) <= 80 and len(paras[n - 1]) <= 80
            out.append("\n" if short else "\n\n")
        out.append(p)
    return "".join(out)


def split_notes(text: str) -> tuple[str, str]:
    """(story, notes) of a text whose paragraphs are apart by blank lines (a feed entry)."""
    paras = [" ".join(p.split()) if not _BULLET.match(p.strip()) else p.strip()
             for p in re.split(r"\n[ \t]*\n", text) if p.strip()]
    lines = [p for para in paras for p in ([para] if "\n" not in para else para.split("\n"))]
    story, notes = partition(lines, keep_other=True)
    return _join_body([lines[n] for n in story]), join_notes([lines[n] for n in notes])
