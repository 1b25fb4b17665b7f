"""The layout of Lantmäteriet's "Belägenhetsadress Nedladdning, vektor" GeoPackage.

One place that names the layer, its point column and its attributes, so the importer that
recognises the file and the generator that builds test files (:mod:`layers.registers.lm_fixture`)
cannot drift apart. Sources, and what is certain and what is not: docs/api-lookup.md
("Lantmäteriet's address register").

The product is delivered per municipality as ``belagenhetsadresser_kn<kommunkod>.gpkg`` with one
point layer, ``belagenhetsadress``, in SWEREF 99 TM (EPSG:3006). The attributes are the flattened
classes of the information model: the address area's, farm area's and municipal district's
names carry their class as prefix (``adressomrade_faststalltnamn``), and so does the address's
own object identity (``belagenhetsadress_objektidentitet``), since the file flattens several
classes that each have one.
"""

from __future__ import annotations

from typing import Final, Literal

#: The one feature layer of the product.
LAYER: Final = "belagenhetsadress"
#: Its point column ("adressplatspunkt" in the information model), SWEREF 99 TM.
GEOMETRY: Final = "adressplatspunkt"
SRID: Final = 3006

FieldType = Literal["text", "int", "bool", "datetime"]

#: Attribute → type, as the product's files hold them. Text where the model says text even when
#: the value is usually digits: ``adressplatsnummer`` holds "12-3" for a metre-number address
#: (metertalsadressplats) and ``kommunkod`` keeps its leading zero ("0180"). ``postnummer`` is an
#: integer in the delivered files (readers of the real files format it with five digits).
FIELDS: Final[dict[str, FieldType]] = {
    "belagenhetsadress_objektidentitet": "text",
    "objektversion": "int",
    "versiongiltigfran": "datetime",
    "statusforbelagenhetsadress": "text",
    "adressplatstyp": "text",
    "adressomradestyp": "text",
    "lanskod": "text",
    "kommunkod": "text",
    "kommunnamn": "text",
    "kommundel_faststalltnamn": "text",
    "adressomrade_faststalltnamn": "text",
    "gardsadressomrade_faststalltnamn": "text",
    "adressplatsnummer": "text",
    "bokstavstillagg": "text",
    "lagestillagg": "text",
    "lagestillaggsnummer": "int",
    "avvikerfranstandarden": "bool",
    "avvikandeadressplatsbeteckning": "text",
    "postnummer": "int",
    "postort": "text",
    "popularnamn": "text",
    "insamlingslage": "text",
}

#: The columns a file must have to be taken for this product without a mapping.
SIGNATURE: Final = frozenset(
    {
        "adressomrade_faststalltnamn",
        "adressplatsnummer",
        "kommunkod",
        "statusforbelagenhetsadress",
    }
)
#: The object identity column; an older spelling without the class prefix is accepted too.
ID_COLUMNS: Final = ("belagenhetsadress_objektidentitet", "objektidentitet")
VERSION_COLUMNS: Final = ("belagenhetsadress_objektversion", "objektversion")

#: Statuses delivered: "Gällande" (in force) and "Reserverad" (decided, not yet in use).
STATUS_CURRENT: Final = "Gällande"
STATUS_RESERVED: Final = "Reserverad"

#: Address place types (adressplatstyp).
STREET_PLACE: Final = "Gatuadressplats"
METRE_PLACE: Final = "Metertalsadressplats"
VILLAGE_PLACE: Final = "Byadressplats"
FARM_PLACE: Final = "Gårdsadressplats"

#: A change extract's optional column saying what happened to the object, and its values
#: (the information model's BA_ÅtgärdstypAdress: ny, ändrad, borttagen). See docs/api-lookup.md.
CHANGE_COLUMNS: Final = ("andringstyp", "forandringstyp", "atgardstyp")
CHANGE_KINDS: Final[dict[str, Literal["add", "change", "remove"]]] = {
    "ny": "add",
    "tillkommen": "add",
    "tillägg": "add",
    "tillagg": "add",
    "ändrad": "change",
    "andrad": "change",
    "ändring": "change",
    "andring": "change",
    "borttagen": "remove",
    "borttag": "remove",
    "avregistrerad": "remove",
}

ATTRIBUTION: Final = "© Lantmäteriet (CC BY 4.0)"
PRODUCT: Final = "Belägenhetsadress Nedladdning, vektor"
#: The ``source`` recorded with every imported row.
SOURCE: Final = "lantmateriet-belagenhetsadress"


def is_lm_address_layer(columns: list[str] | tuple[str, ...]) -> bool:
    """True when a layer's columns are this product's (case-insensitive)."""
    lower = {c.lower() for c in columns}
    return lower >= SIGNATURE and any(c in lower for c in ID_COLUMNS)
