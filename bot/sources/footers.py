"""What an organisation's footer looks like, one paragraph at a time, in any of its shapes.

A press release ends with what the organisation says under every release: an "about us"
paragraph, contact lines, the funder's standard notice, a donation appeal, a trademark
line. Some come under a heading ("About …", "Notes to editors", "Pressekontakt"); on real
releases most do not, and contact details are often run together with a funder notice
in one paragraph. Each test here judges one paragraph from its own text (a heading, a
contact block, a self-description, an appeal); `bot.sources.extract.partition` decides from
where they stand which of them end the story.

Every pattern is anchored or bounded (no nested quantifiers), so a paragraph costs one
linear scan per test.
"""

from __future__ import annotations

import re

__all__ = ["contact_kinds", "defined_subject", "is_about", "is_appeal", "is_boilerplate",
           "is_contact_block", "is_footer_heading", "is_run_in_about", "is_supported_by",
           "without_article"]

TERMINAL = (".", "!", "?", "…", '"', "”", "“", "’", "»", "«")
LABEL_LINE = re.compile(r"(?:tags|categories|category|keywords|filed under|posted in|photos?"
                        r"|images?|credits?|foto|source|copyright"
                        # a source, picture credit or writer label in the EU's languages
                        r"|quelle|bildnachweis|fotonachweis|bildquelle|fotos|fotograf[íi]a"
                        r"|fotografie|fuente|fonte|bron|k[äa]lla|kilde|l[äa]hde|forr[áa]s"
                        r"|[źz]r[óo]d[łl]o|zdroj|vir|izvor|sursa|[šs]altinis|avots|allikas|πηγή"
                        r"|източник|autor|auteur|author|tekst|teksti|sz[öo]veg|pi[šs]e"
                        r"|kirjoittaja|συντάκτης|автор|informa|redacci[óo]n|kuva|fot[óo]"
                        r"|zdj[ęe]cie|снимк[аи]|φωτογραφία|cr[ée]dits?[ \t]+photos?"
                        r"|photo[ \t]+credits?"
                        # the tags label in the EU's languages
                        r"|etiquetas|[ée]tiquettes|mots-cl[ée]s|schlagw[öo]rter|schlagworte"
                        r"|stichw[öo]rter|etichette|parole[ \t]+chiave|trefwoorden|taggar|tagit"
                        r"|tagi|[šs]t[íi]tky|c[íi]mk[ée]k|avainsanat|n[øo]gleord|etiquetes"
                        r")\b[ \t]*:|©|\(c\)[ \t]"
                        # a news site's syndication line and tags heading (`Questo è un
                        # comunicato stampa pubblicato il …`, `In questo articolo si parla di`)
                        r"|questo[ \t]+[èe][ \t]+un[ \t]+comunicato[ \t]+stampa[ \t]+pubblicato"
                        r"|in[ \t]+questo[ \t]+articolo[ \t]+si[ \t]+parla[ \t]+di"
                        r"|(?:no|nr|ref(?:erence)?)\.?[ \t]*:?[ \t]*\d[\d/.-]*$", re.I)

# an organisation's name in a heading; a dot inside a name (`Node.js`, `Booking.com`) is no
# sentence's end
_NAME = r"(?:[^\n.!?:]|\.(?=\w))"
_FOOTER_HEAD = re.compile(
    # Polish and Czech first: the German `Kontakt` below would take their first word
    r"kontakt[ \t]+(?:dla[ \t]+medi[óo]w|pro[ \t]+m[ée]dia)|"
    r"about[ \t]+(?![\d€$£])" + _NAME + r"{1,80}|about"
    r"|notes?[ \t]+(?:to|for)[ \t]+(?:the[ \t]+)?(?:editors?|media|press|journalists|reporters)"
    r"|(?:media|press),?[ \t]+please[ \t]+note"
    r"|editor['’]?s['’]?[ \t]+notes?|(?:press|media)[ \t]+(?:contacts?|enquiries|inquiries|office)"
    r"|enquiries|inquiries"
    r"|for (?:further|more) information(?:[ \t,][^\n:]{0,60}?(?:contact|write|call)\b[^\n:]{0,20})?"
    r"|f[üu]r[ \t]+weitere[ \t]+informationen[^\n:]{0,60}?(?:an|kontaktieren[^\n:]{0,20})\b"
    r"|further information|background(?:[ \t]+(?:information|notes?))?(?:[ \t]+for[ \t]+"
    r"editors)?|notes|(?:media|additional|multimedia)[ \t]+resources|related[ \t]+links"
    # a page's attachments: `Downloads:`, `Open / Download:`, `Anhänge`, `Pièces jointes`
    r"|(?:open[ \t]*/[ \t]*)?downloads?|attachments?|anh[äa]nge?|pi[èe]ces?[ \t]+jointes?"
    r"|t[ée]l[ée]chargements?|adjuntos?|descargas?|allegati|bijlagen?|bilagor|vedlegg"
    # Swedish, Norwegian, Danish: `Kontaktperson: …`
    r"|kontaktpersone?r?"
    r"|recursos[ \t]+adicionales|ressources|weitere[ \t]+links|материалы[ \t]+для[ \t]+сми"
    # German
    r"|[üu]ber[ \t]+(?![\d€$£])" + _NAME + r"{1,80}|(?:presse|medien)kontakte?|kontakte?"
    r"|r[üu]ckfragehinweise?|r[üu]ckfragen"
    r"|ansprechpartner(?:in|innen)?|f[üu]r[ \t]+r[üu]ckfragen(?:[^\n:]{0,30})?"
    r"|weitere[ \t]+informationen|hinweise?[ \t]+(?:f[üu]r|an)[ \t]+(?:die[ \t]+)?"
    r"redaktion(?:en)?|hintergrund(?:informationen)?|pressestelle"
    r"|antecedentes|contexte|note[ \t]+aux[ \t]+r[ée]dactions"
    # Spanish
    r"|acerca[ \t]+de[ \t]+" + _NAME + r"{1,80}|sobre[ \t]+" + _NAME + r"{1,80}"
    r"|contactos?(?:[ \t]+(?:de|para)[ \t]+(?:prensa|medios(?:[ \t]+de[ \t]+comunicaci[óo]n)?))?"
    r"|notas?[ \t]+(?:para|a)[ \t]+(?:los[ \t]+)?(?:editores|redactores|periodistas|redacciones"
    r"|medios)"
    r"|(?:para[ \t]+)?m[áa]s[ \t]+informaci[óo]n|(?:gabinete|oficina)[ \t]+de[ \t]+prensa"
    # French
    r"|[àa][ \t]+propos\b(?:[ \t]+(?:de|du|des|d['’])" + _NAME + r"{1,80})?"
    # `Au sujet de Debian`: the other French way to head an about-block
    r"|au[ \t]+sujet[ \t]+(?:de|du|des|d['’])[ \t]*" + _NAME + r"{1,80}"
    r"|contacts?[ \t]+(?:presse|m[ée]dias?)|notes?[ \t]+(?:aux|pour les)[ \t]+(?:r[ée]dactions"
    r"|r[ée]dacteurs|[ée]diteurs|journalistes)|pour[ \t]+(?:plus[ \t]+d['’]|de[ \t]+plus[ \t]+"
    r"amples[ \t]+)informations?|(?:service|relations)[ \t]+(?:de[ \t]+)?presse"
    # Russian
    r"|об?[ \t]+[^\W\d_]" + _NAME + r"{1,80}|справка|справочная[ \t]+информация"
    r"|контакты(?:[ \t]+для[ \t]+(?:сми|прессы))?|контактная[ \t]+информация|пресс-служба"
    r"|для[ \t]+справок|дополнительная[ \t]+информация"
    r"|примечани[ея][ \t]+для[ \t]+редакт[а-я]+"
    # Italian, Portuguese, Dutch, Swedish, Polish, Czech
    r"|indicazioni[ \t]+per[ \t]+(?:i[ \t]+)?(?:media|giornalisti|la[ \t]+stampa)"
    r"|(?:persone?|persona)[ \t]+di[ \t]+(?:riferimento|contatto)|contatti(?:[ \t]+stampa)?"
    r"|ufficio[ \t]+stampa|per[ \t]+(?:ulteriori|maggiori)[ \t]+informazioni"
    # `Su Debian`, `A proposito di …`: an Italian about-heading, a name after `su`
    r"|su[ \t]+(?-i:[A-ZÀ-Ý])[^\n.!?:]{1,40}|a[ \t]+proposito[ \t]+d(?:i|el|ella|ell['’])"
    r"[ \t]*" + _NAME + r"{1,80}"
    r"|note?[ \t]+(?:per[ \t]+la|alla|alle)[ \t]+redazion[ei]"
    r"|contatos?(?:[ \t]+(?:para|de)[ \t]+(?:a[ \t]+)?imprensa)?|assessoria[ \t]+de[ \t]+imprensa"
    r"|noot[ \t]+voor[ \t]+(?:de[ \t]+)?redactie|perscontact|voor[ \t]+meer[ \t]+informatie"
    r"|presskontakt(?:er)?|f[öo]r[ \t]+mer[ \t]+information"
    r"|wi[ęe]cej[ \t]+informacji|dal[šs][íi][ \t]+informace"
    # a town hall's or office's opening hours under the story
    r"|[öo]ffnungszeiten(?:[ \t]+[^\n:.]{1,30})?|(?:b[üu]rgermeister)?sprechzeiten"
    r"|opening[ \t]+(?:hours|times)|horaires?(?:[ \t]+d['’]ouverture)?"
    r"|horarios?(?:[ \t]+de[ \t]+atenci[óo]n)?|orari(?:[ \t]+di[ \t]+apertura)?|openingstijden"
    r"|[öo]ppettider|[åa]bningstider|aukioloajat"
    # last: the other languages' "contact …" headings start with it
    r"|contacts?(?:[ \t]+(?:for|details|information)[^\n:.]{0,40})?", re.I)
_PHONE = re.compile(r"(?:tel(?:ephone)?|phone|mobile|mob|cell|fax|t[ée]l[ée]?(?:fono|phone)?"
                    r"|m[óo]vil|portable|тел(?:ефон)?|моб(?:ильный)?|факс|[tmfт])\.?[ \t]*:?[ \t]*"
                    r"\+?[\d(][\d ()./-]{5,}|\+\d[\d ()./-]{6,}$", re.I)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_POSTCODE = re.compile(r"\b(?:[A-Z]{1,2}-)?\d{4,5}[ \t]+[A-ZÄÖÜÉ][\w-]+|(?<!\d)\d{6},[ \t]*[А-ЯЁ]"
                       r"|\b(?:ul\.|ул\.|улица|просп(?:ект|\.)|calle|c/|avenida|avda?\.|rue"
                       r"|avenue|boulevard|bd|place|plaza|paseo)[ \t]+[^\n]{2,60}?\d")
_FUNDER = re.compile(
    # `Interreg Europe is an interregional cooperation programme, co-funded by the …`
    r"[\w'’ –-]{1,100}?[ \t](?:is|are)[ \t]+(?:an?|the)[ \t][\w'’ –-]{1,80}?,[ \t]*(?:co-?)?"
    r"(?:funded|financed|co-financed)[ \t]+by"
    r"|(?:co-?)?(?:funded|financed)[ \t]+by|views and opinions expressed"
    r"|(?:[\w'’ –-]{0,100}?[ \t])?(?:is|are|was|were|has been|have been)[ \t]+(?:co-?)?"
    r"(?:funded|financed|co-financed)[ \t]+by"
    r"|(?:[\w'’ –-]{0,100}?[ \t])?(?:co)?financiad[oa]s?[ \t]+por"
    r"|el[ \t]+contenido[ \t]+de[ \t]+(?:esta|este)[ \t]+\w+[ \t]+es[ \t]+(?:de[ \t]+la[ \t]+)?"
    r"responsabilidad|(?:[\w'’ –-]{0,100}?[ \t])?(?:co-?)?financ[ée]e?s?[ \t]+par"
    r"|le[ \t]+contenu[ \t]+de[ \t]+(?:cette|ce)[ \t]+\w+[ \t]+rel[èe]ve"
    r"|(?:[\w'’ –-]{0,100}?[ \t])?(?:со)?финансир[а-я]+[ \t]+"
    r"|(?:[\w'’ –-]{0,100}?[ \t])?при[ \t]+(?:финансовой[ \t]+)?поддержке"
    r"|содержание[ \t]+(?:данной|этой|настоящей)[ \t]+публикации",
    re.I)
_FUNDER_WHO = re.compile(r"european union|\beu\b|erdf|european regional development fund"
                         r"|interreg|european commission|uni[óo]n europea|\bue\b"
                         r"|union europ[ée]enne|commission europ[ée]enne|comisi[óo]n europea"
                         r"|европейск[а-я]+[ \t]+(?:союз|комисс)|евросоюз|(?<!\w)ес(?!\w)", re.I)
# the standard "The European Union is made up of 27 Member States…" notice, in any language
_EU_NOTICE = re.compile(
    r"(?:the[ \t]+)?european[ \t]+union|la[ \t]+uni[óo]n[ \t]+europea|l['’]union[ \t]+europ[ée]enne"
    r"|европейский[ \t]+союз", re.I)
_EU_MADE_OF = re.compile(
    r"(?:is made up of|consists of|comprises|est (?:constitu[ée]e|compos[ée]e|form[ée]e) de"
    r"|regroupe|est[áa] (?:formada|compuesta|integrada) por|se compone de"
    r"|состоит из|объединяет)[ \t]+\d{1,2}", re.I)
_SOCIAL = re.compile(r"(?:follow us|follow[ \t]+\S+(?:[ \t]+news)?[ \t]+on\b|find us|join us"
                     r"|stay in touch|connect with us|unsubscribe"
                     r"|web(?:site)?[ \t]*:|internet[ \t]*:|(?:facebook|twitter|x|linkedin"
                     r"|instagram|youtube|mastodon|bluesky|telegram|vk|вконтакте|телеграм)"
                     r"[ \t]*:|s[íi]guenos|encu[ée]ntranos|suivez[- ]nous|retrouvez[- ]nous"
                     r"|следите за нами|подписывайтесь|мы в (?:социальных сетях|соцсетях)"
                     r"|(?:sitio[ \t]+web|site[ \t]+(?:web|internet)|сайт|веб-сайт)[ \t]*:)", re.I)


def is_footer_heading(text: str) -> bool:
    """`About the programme`, `Notes to editors`, `Press contact:` — alone or before a colon."""
    head = text[:140]
    m = _FOOTER_HEAD.match(head)
    if not m:
        return False
    rest = head[m.end():].lstrip(" \t")
    if rest.startswith(":"):
        return True
    if len(text) > 100 or text.endswith((".", "!", "?")):
        return False
    # `For more information, please contact` / `Pour plus d'informations, veuillez contacter`
    return not rest or (rest.startswith(",") and len(rest.split()) <= 5)


_SUPPORTED = re.compile(
    r"[^.!?]{0,120}?\b(?:is|are|was|were|ist|wird|est|sont|es|son)[ \t]+(?:\w+[ \t]+){0,2}"
    r"(?:supported|funded|financed|sponsored|gef[öo]rdert|unterst[üu]tzt|soutenue?s?|financ[ée]e?s?"
    r"|financiad[oa]s?|apoyad[oa]s?|patrocinad[oa]s?)[ \t]+(?:by|durch|von|par|por)\b", re.I)


def is_supported_by(par: str) -> bool:
    """`The exhibition is kindly supported by the Berlin Senate …`: a funder's credit, in a
    paragraph of at most two short sentences."""
    return len(par.split()) <= 60 and par.count(". ") <= 1 and bool(_SUPPORTED.match(par))


def is_boilerplate(par: str) -> bool:
    """A paragraph that belongs to a footer wherever it stands: phone, e-mail, address, funder."""
    if len(par) <= 200 and _PHONE.match(par):
        return True
    if len(par) <= 160 and (re.match(r"(?:e-?mail|correo|courriel|эл\.?[ \t]*почта)[ \t]*:",
                                     par, re.I) or (
            _EMAIL.search(par) and len(par.split()) <= 8 and not par.endswith(TERMINAL))):
        return True
    if (len(par) <= 150 and "," in par and _POSTCODE.search(par)
            and not par.endswith((".", "!", "?")) and len(par.split()) <= 16):
        return True
    if len(par) <= 400 and _FUNDER.match(par) and _FUNDER_WHO.search(par):
        return True
    if len(par) <= 800 and (m := _EU_NOTICE.match(par)) and _EU_MADE_OF.search(par, m.end(),
                                                                              m.end() + 60):
        return True
    return len(par) <= 200 and bool(_SOCIAL.match(par) or LABEL_LINE.match(par))




# --- contact details anywhere in a paragraph -------------------------------------------
_PHONE_ANY = re.compile(
    r"(?:\b(?:tel(?:ephone)?|phone|mobile|mob|cell|fax|t[ée]l[ée]?(?:fono|phone)?|m[óo]vil"
    r"|portable|handy|тел(?:ефон)?|моб(?:ильный)?|факс|[tmfт])\.?[ \t]*:?[ \t]*\+?[\d(]"
    r"|(?<![\w+])\+[1-9]\d{0,3}[ \t.(/-]{0,2}\d|(?<![\w(])\(\d{2,5}\)[ \t]?\d"
    r"|(?<![\w.,])0\d{1,4}[ \t./-]\d{2,4}[ \t./-]\d{2,4})", re.I)
_DIGIT = re.compile(r"\d")
_LABELLED_PHONE = re.compile(r"\b(?:tel(?:efon|ephone)?|phone|fax|mobile?|mobil|handy"
                             r"|t[ée]l[ée]phone|tel[ée]fono)\.?[ \t]*:[ \t]*\+?[\d(]", re.I)
_WEB = re.compile(r"https?://|(?<![\w@.])www\.[\w-]", re.I)
_HANDLE = re.compile(r"(?<![\w.@])@[A-Za-z_][\w.]{2,30}\b(?!\.[a-z]{2,})")
_URL = re.compile(r"https?://\S+|www\.\S+", re.I)


def contact_kinds(par: str) -> set[str]:
    """Which kinds of contact detail a paragraph carries: email, phone, web, social, address."""
    # plain string checks first: most story paragraphs have no "@", no address, few digits
    kinds = set()
    at = "@" in par
    if at and _EMAIL.search(par):
        kinds.add("email")
    if "www." in par or "://" in par:
        kinds.add("web")
    # a handle (`@EUinMoldova`); a link to a social site is a link like any other
    if at and _HANDLE.search(_URL.sub(" ", _EMAIL.sub(" ", par))):
        kinds.add("social")
    if _DIGIT.search(par):
        if _PHONE_ANY.search(par):
            kinds.add("phone")
        if _POSTCODE.search(par):
            kinds.add("address")
    return kinds


def sends_to_address(par: str) -> bool:
    """`Send your application to award@…` (any language): a sentence of the story that gives
    an address, not a contact line: one e-mail and no other detail, no label before it, and
    running words around it — mostly lower-case after the first, unlike `Press contact
    Jane Doe jane@…`."""
    if len(par) > 200 or "\n" in par or contact_kinds(par) != {"email"} or len(
            _EMAIL.findall(par)) != 1 or ":" in par.split("@", 1)[0]:
        return False
    words = [w for w in _EMAIL.sub(" ", par).split() if any(c.isalpha() for c in w)]
    rest = words[1:]
    return len(words) >= 4 and 3 * sum(w[0].islower() for w in rest) >= 2 * len(rest)


# a sentence that opens by naming the press contacts: `Pressekontakter er statssekretær …`,
# `Media contact: …`, `Contacto de prensa: …`
_CONTACT_OPENING = re.compile(
    r"(?:(?:media|press)[ \t]+(?:contacts?|enquiries|inquiries)|pressekontakt(?:e|er|ar)?"
    r"|presskontakt(?:er)?|medienkontakte?|contactos?[ \t]+(?:de[ \t]+)?(?:prensa|imprensa)"
    r"|contacts?[ \t]+(?:presse|m[ée]dias?)|perscontact(?:en)?|kontakt[ \t]+(?:dla[ \t]+medi[óo]w"
    r"|pro[ \t]+m[ée]dia|za[ \t]+medije)|sajt[óo]kapcsolat|mediayhteydet|lehdist[öo]yhteydet"
    r"|contatti[ \t]+stampa|contacto[ \t]+para[ \t]+(?:a[ \t]+)?imprensa)\b", re.I)


def is_contact_block(par: str) -> bool:
    """Contact details run together in one paragraph (`Press office, Rue X 12, 1000
    Brussels, +32 2 …, press@…`), with or without a funder notice around them: two kinds
    in a short paragraph, three in any."""
    if len(par) > 1500:
        return False
    kinds = contact_kinds(par)
    words = len(par.split())
    prose = words >= 15 and par.rstrip().endswith(TERMINAL)  # a sentence that cites a link
    if len(kinds) >= 3 or (len(kinds) >= 2 and words <= 45 and not prose):
        return True
    if words <= 80 and kinds & {"email", "phone"} and _CONTACT_OPENING.match(par):
        return True  # `Pressekontakter er statssekretær X, telefon …, e-post …`
    # `Weitere Informationen erteilt … Dr. X, Tel: 030/…, Fax: 030/…`: a sentence naming
    # whom to ask, with two labelled numbers
    return words <= 60 and len(_LABELLED_PHONE.findall(par)) >= 2


# --- an organisation describing itself --------------------------------------------------
_ORG_NOUN = (
    r"organi[sz]ation|agency|charity|foundation|company|network|programme|program|association"
    r"|institution|university|fund|ngo|non-?profit|not-for-profit|alliance|federation"
    r"|institute|group|leader|provider|initiative|partnership|society|union|council|authority"
    r"|coalition|brand|b[üu]ndnis|koalition|marke|coalici[óo]n|alianza|marca|marque|коалици"
    r"|бренд|объединени"
    r"|centre|center|platform|manufacturer|firm|corporation|cooperative|trust|body|movement"
    r"|organizaci[óo]n|fundaci[óo]n|empresa|entidad|asociaci[óo]n|red|agencia|instituci[óo]n"
    r"|programa|ong|universidad|federaci[óo]n|compa[ñn][íi]a|sociedad|plataforma|l[íi]der"
    r"|association|fondation|entreprise|agence|r[ée]seau|[ée]tablissement|soci[ée]t[ée]"
    r"|universit[ée]|organisme|f[ée]d[ée]ration|collectif|groupe|leader|acteur"
    r"|stiftung|unternehmen|verein|netzwerk|agentur|einrichtung|hochschule|universit[äa]t"
    r"|verband|institut|gesellschaft|anbieter|initiative|organisation|programm|hersteller"
    r"|организаци|фонд|компани|агентств|сеть|программ|университет|ассоциаци|объединени"
    r"|учреждени|движени|союз|лидер|центр|предприяти|проект"
    # programme, organisation, foundation, network, association, university, agency in the
    # EU's other languages (stems: what follows the copula within five words)
    r"|programm|ohjelm|програм|πρόγραμμα|organizac|organizác|organisat|organizāc|organizaț"
    r"|organizzaz|organiza[çc][ãa]o|szervezet|järjestö|fondas|fonds|fundac|fundaț|fundaç"
    r"|fondaz|nadac|nadác|zaklad|säätiö|stiftelse|stichting|alapítvány|фондаци|ίδρυμα|tinkl"
    r"|tīkl|võrgustik|verkost|sieć|síť|sieť|mrež|rețea|netwerk|nätverk|netværk|hálózat|мрежа"
    r"|δίκτυο|asociac|asociaț|associaz|associa[çc]|vereniging|förening|forening|egyesület"
    r"|yhdistys|ühendus|stowarzysz|sdružen|združen|udrug|сдружение|ένωση|univerz|yliopist"
    r"|ülikool|egyetem|uniwersytet|sveučiliš|университет|πανεπιστήμιο|agenc|agentūr|aģentūr"
    r"|agentuur|virasto|myndighet|agentschap|ügynökség|агенци")
_DEFINES = re.compile(
    # "X is a / the / one of …", in en, es, fr, de; "X — это …", "X является …" in ru
    r"(?:\b(?:is|are)[ \t]+(?:a|an|the|one[ \t]+of|europe['’]s|the[ \t]+world['’]s)"
    r"|\bes[ \t]+(?:una?|el|la)|\best[ \t]+(?:une?|le|la|l['’])|\bist[ \t]+(?:eine?[rs]?|der"
    r"|die|das)|[ \t][—–-][ \t]*это|\bявля[а-я]*"
    # the other languages of the EU: their "is a", or their "is" where they have no article
    r"|\bis[ \t]+(?:een|de|het)|\b(?:är|er)[ \t]+(?:en|ett|et|den|det)|\bè[ \t]+(?:una?|uno|il|la"
    r"|l['’])|\bé[ \t]+(?:uma?|unha?|o|a)|\bés[ \t]+(?:una?|el|la|l['’])|\beste[ \t]+(?:o|un)"
    r"|\bείναι[ \t]+(?:ένας|μια|μία|ένα|ο|η|το)|\b(?:yra|ir|on|jest|je|jsou|sú|е|са))[ \t]", re.I)
# "The alliance consists of …", "Das Bündnis besteht aus …"
_GROUPS = re.compile(r"(?:consists[ \t]+of|is[ \t]+made[ \t]+up[ \t]+of|brings[ \t]+together"
                     r"|besteht[ \t]+(?:\w+[ \t]+)?aus|vereint|se[ \t]+compone[ \t]+de|re[úu]ne"
                     r"|est[ \t]+compos[ée]e?[ \t]+de|regroupe|состоит[ \t]+из|объединяет)", re.I)
_ORG_NOUN_RE = re.compile(_ORG_NOUN, re.I)
_DEFINES_NOUN = re.compile(r"(?:[ \t][\w'’-]+){0,5}?[ \t](?:" + _ORG_NOUN + r")", re.I)
_FOUNDED = re.compile(
    r"(?:founded|established|fundad[ao]|fond[ée]e?|gegr[üu]ndet|основан[аоы]?"
    r")[ \t]+(?:in[ \t]+|en[ \t]+|im[ \t]+(?:jahr[ \t]+)?|в[ \t]+)?(?:1[89]|20)\d\d\b", re.I)
_DEFINE_OR_FOUND_WORDS = frozenset((
    "is", "are", "es", "est", "ist", "это", "является", "являются", "founded", "established",
    "fundada", "fundado", "fondée", "fondé", "fondee", "fonde", "gegründet", "gegrundet",
    "основан", "основана", "основано", "основаны",
    # "is" in the EU's other languages (`_DEFINES` reads what follows)
    "een", "är", "er", "è", "é", "és", "este", "είναι", "yra", "ir", "on", "jest", "je", "jsou",
    "sú", "е", "са"))
_SELF = re.compile(
    r"\b(?:our[ \t]+mission|mission[ \t]+is|works?[ \t]+to|working[ \t]+to|committed[ \t]+to"
    r"|dedicated[ \t]+to|headquartered|based[ \t]+in|employs|members?[ \t]+(?:in|from|of)"
    r"|more[ \t]+(?:information|info)[ \t]+(?:at|on)|visit|learn[ \t]+more|largest|leading"
    r"|countries|misi[óo]n|trabaja[ \t]+(?:para|por)|sede|pa[íi]ses|m[áa]s[ \t]+informaci[óo]n"
    r"|mission|œuvre|oeuvre|si[èe]ge|pays|plus[ \t]+d['’]informations|engag[ée]e?"
    r"|founded|gegr[üu]ndet|fundad[ao]|fond[ée]e?|основан"
    r"|sitz|mitglieder|l[äa]ndern|besch[äa]ftigt|setzt[ \t]+sich|engagiert"
    r"|мисси|штаб|стран|работает|подробн|сотрудник)", re.I)


# a heading run into its paragraph by a PDF copy: `À propos de Canadian Club Canadian Club est …`
_ABOUT_LEAD = re.compile(r"(?:about|[àa][ \t]+propos[ \t]+d(?:e|u|es|['’])|acerca[ \t]+de|sobre"
                         r"|[üu]ber|об?)[ \t]", re.I)


# `… was officially created in 2022 to …`: when the organisation came to be, its history
_CAME_TO_BE = re.compile(
    r"(?:was|were|has[ \t]+been|wurde|fue|a[ \t]+[ée]t[ée]|был[аио]?)[ \t]+(?:\w+[ \t]+)?"
    r"(?:founded|established|created|formed|launched|set[ \t]+up|gegr[üu]ndet|geschaffen"
    r"|fundad[ao]|cread[ao]|fond[ée]e?|cr[ée]{2}e?|основан[аоы]?|создан[аоы]?)"
    r"[ \t]+(?:in[ \t]+|en[ \t]+|im[ \t]+(?:jahr[ \t]+)?|в[ \t]+)?(?:1[89]|20)\d\d\b", re.I)


def is_run_in_about(par: str) -> bool:
    """`À propos de Canadian Club Canadian Club est une marque …`: an "About" heading a PDF
    copy ran into its paragraph, however long the paragraph it made of the rest. A footer
    heading like any other: what follows it is notes. The rest defines an organisation
    (`… est une marque`) or tells when it was created (`… was officially created in 2022`)."""
    start = par[:300]
    if not _ABOUT_LEAD.match(start):
        return False
    if (d := _DEFINES.search(start, 0, 160)) and _DEFINES_NOUN.match(start, d.end() - 1):
        return True
    return bool(_CAME_TO_BE.search(start, 0, 220))


# `Based in Dedham, MA, The Tor Project develops …`, `Con sede en Madrid, la fundación …`:
# an organisation's self-description opened by where it sits, as wire releases write them
_SEATED_LEAD = re.compile(
    r"(?:based|headquartered|located)[ \t]+in[ \t]+[^,.;:]{2,60},[ \t]"
    r"|con[ \t]+sede[ \t]+en[ \t]+[^,.;:]{2,60},[ \t]"
    r"|bas[ée]e?s?[ \t]+(?:à|a|en|au)[ \t]+[^,.;:]{2,60},[ \t]"
    r"|mit[ \t]+sitz[ \t]+in[ \t]+[^,.;:]{2,60},[ \t]", re.I)


_ARTICLE = re.compile(r"(?:the|die|der|das|la|le|les|el|los|las|il|lo|de|het|l['’])[ \t]+", re.I)


def without_article(text: str) -> str:
    """`The Build Service aims …` → `Build Service aims …`: a name as the text opens with it."""
    return _ARTICLE.sub("", text, count=1)


def defined_subject(par: str) -> str | None:
    """`The Build Service is an open … platform`: the name a paragraph defines as an
    organisation, a programme or a platform (its article dropped), else None."""
    start = par[:300]
    if start[:1] in "«“\"„‘'" or (d := _DEFINES.search(start, 0, 160)) is None:
        return None
    if not _DEFINES_NOUN.match(start, d.end() - 1):
        return None
    subject = without_article(start[:d.start()].strip())
    words = subject.split()
    return subject if 1 <= len(words) <= 6 and subject[:1].isupper() else None


def is_about(par: str) -> bool:
    """An organisation's self-description without a heading: `The Fund is a non-profit
    organisation founded in 1998 …`, `Die Stiftung ist eine …`, `Фонд — это …`: it defines
    an organisation (or says when it was founded) and speaks of its mission, size or site."""
    start = par[:300]
    if start[:1] in "«“\"„‘'":
        return False  # a quotation: someone speaking in the story, not the self-description
    if not 12 <= len(par.split()) <= 220:
        return False
    if _SEATED_LEAD.match(start):
        return True
    if (group := _GROUPS.search(start, 0, 160)) and _ORG_NOUN_RE.search(start, 0, group.start()):
        return True  # "The alliance consists of …", "Das Bündnis besteht aus …"
    words = set(start.casefold().split())
    if not words & _DEFINE_OR_FOUND_WORDS:  # a set lookup spares most paragraphs the scans
        return False
    founded = _FOUNDED.match(start) or _FOUNDED.search(start)
    defines = _DEFINES.search(start)
    if defines and not _DEFINES_NOUN.match(start, defines.end() - 1):
        defines = None
    if not (defines or founded):
        return False
    return bool(founded or _SELF.search(par) or _WEB.search(par) or _EMAIL.search(par))


# --- appeals and notices -----------------------------------------------------------------
_APPEAL = re.compile(
    r"\b(?:donate|make[ \t]+a[ \t]+(?:donation|gift)|support[ \t]+our[ \t]+work|your[ \t]+"
    r"(?:gift|donation)|give[ \t]+(?:today|now)|subscribe[ \t]+to[ \t]+(?:our|the)[ \t]+"
    r"(?:news|newsletter|mailing|press)|subscribe[ \t]+to[ \t]+(?:\S+[ \t]+){0,3}(?:news|newsletter"
    r"|mailing|updates)|sign[ \t]+up[ \t]+(?:for|to)[ \t]+(?:our|the)[ \t]+"
    r"(?:news|newsletter|mailing)|registered[ \t]+trade[ \t]?marks?|trade[ \t]?marks?[ \t]+"
    r"(?:of|are|is)|all[ \t]+rights[ \t]+reserved|haz(?:te)?[ \t]+(?:un[ \t]+)?(?:donativo"
    r"|socio)|dona[ \t]+ahora|suscr[íi]bete|todos[ \t]+los[ \t]+derechos[ \t]+reservados"
    r"|marca[ \t]+registrada|faire[ \t]+un[ \t]+don|faites[ \t]+un[ \t]+don|abonnez-vous"
    r"|tous[ \t]+droits[ \t]+r[ée]serv[ée]s|marque[ \t]+d[ée]pos[ée]e|jetzt[ \t]+spenden"
    r"|spenden[ \t]+sie|newsletter[ \t]+abonnieren|alle[ \t]+rechte[ \t]+vorbehalten"
    r"|eingetragene[ \t]+(?:marke|warenzeichen)|пожертвова|поддержите[ \t]+нас"
    r"|подпи(?:шитесь|саться)[ \t]+на[ \t]+(?:рассылку|новости)|все[ \t]+права[ \t]+защищены"
    r"|зарегистрированн[а-я]+[ \t]+товарн"
    # tax notices on gifts and fees, contributions asked for
    r"|steuerlich[ \t]+absetzbar|tax[- ]deductible|d[ée]ductibles?[ \t]+de[ \t]+vos[ \t]+imp[ôo]ts"
    r"|deducibles?|make[ \t]+an?[ \t]+(?:\w+[ \t]+)?(?:contribution|donation|gift)"
    r"|we[ \t]+depend[ \t]+on[ \t]+(?:contributions|donations|support|gifts)|contribuez"
    r"|adh[ée]rez|become[ \t]+a[ \t]+(?:member|supporter|sponsor|donor)|support[ \t]+(?:the|us)"
    r"[ \t]+\S+[ \t]*\.?$|sign[ \t]+up[ \t]+for[ \t]+(?:\w+[ \t]+){0,2}(?:news|alerts|updates"
    r"|newsletter|emails?)|newsletter[ \t]+(?:abonnieren|bestellen)|envoi[ \t]+de[ \t]+la[ \t]+"
    r"newsletter|sign[ \t]+up[ \t]+here|want[ \t]+to[ \t]+be[ \t]+informed|mailing[ \t]+list"
    r"|liste[ \t]+de[ \t]+diffusion|d[ée]sabonner|d[ée]sinscription|unsubscribe|darse[ \t]+de"
    r"[ \t]+baja|abmelden|отписаться"
    # "to learn more about us, visit our website"
    r"|(?:pour[ \t]+en[ \t]+savoir[ \t]+plus|to[ \t]+(?:find[ \t]+out|learn)[ \t]+more"
    r"|para[ \t]+saber[ \t]+m[áa]s|para[ \t]+saber[ \t]+mais|per[ \t]+saperne[ \t]+di[ \t]+pi[ùu]"
    r"|mehr[ \t]+(?:dazu|erfahren))[^.!?\n]{0,80}?(?:rendez-vous|visit|visite|visita|besuchen)"
    r"[^.!?\n]{0,40}?(?:site|website|web|page|seite|p[áa]gina|sitio)"
    # a press office offering experts and interviews
    r"|vermitteln[ \t]+gern|available[ \t]+for[ \t]+interviews?|interviews?[ \t]+(?:are|is)[ \t]+"
    r"available|disponibles?[ \t]+pour[ \t]+(?:des[ \t]+)?interviews?|disponibles?[ \t]+para"
    r"[ \t]+entrevistas"
    # a credit line under the story
    r"|^(?:report|text|story|words|photos?|pictures?|texto|texte|fotos?)[ \t]+(?:by|von|por|par)"
    r"[ \t]+[^.\n]{1,60}$)", re.I)


# a publisher's disclaimer: "… solely those of the authors and do not necessarily reflect …"
_DISCLAIMER = re.compile(
    r"do(?:es)?[ \t]+not[ \t]+necessarily[ \t]+reflect"
    r"|solely[ \t]+(?:those|the[ \t]+responsibility)[ \t]+of|makes?[ \t]+no[ \t]+representation"
    r"|no[ \t]+refleja[n]?[ \t]+necesariamente"
    r"|n['’]engagent?[ \t]+que|ne[ \t]+refl[èe]tent?[ \t]+pas[ \t]+n[ée]cessairement"
    r"|geben[ \t]+nicht[ \t]+(?:notwendigerweise|unbedingt)|не[ \t]+обязательно[ \t]+отражает",
    re.I)


def is_appeal(par: str) -> bool:
    """A donation appeal, a "subscribe to our news" line, a trademark/rights notice or a
    publisher's disclaimer."""
    return (len(par) <= 600 and bool(_APPEAL.search(par))) or (
        len(par) <= 2000 and bool(_DISCLAIMER.search(par)))
