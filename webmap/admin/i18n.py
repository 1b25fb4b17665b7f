"""The admin pages' words, Swedish (the default) and English: one dictionary per language.

Every visible or spoken string of ``/admin`` lives here, including the ones the progress script
announces (handed to it through ``data-`` attributes), so a translator edits one place.
Messages that come from the domain (why a file was refused, why a feature was rejected) are in
English; the templates mark them ``lang="en"`` so a screen reader pronounces them correctly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

LANGS = ("sv", "en")
DEFAULT_LANG = "sv"
#: Staff work in Swedish municipalities: times are shown in Swedish time in both languages.
LOCAL_TIME = ZoneInfo("Europe/Stockholm")

SV: dict[str, str] = {
    "site": "Webmap – administration",
    "skip": "Hoppa till innehållet",
    "nav_label": "Administration",
    "nav_layers": "Lager",
    "nav_upload": "Ladda upp",
    "switch_lang": "English",
    "signed_in_as": "Inloggad som",
    "sign_out": "Logga ut",
    "error_prefix": "Fel:",
    "layers_title": "Lager",
    "layers_caption": "Alla lager ({count} st), publika och privata",
    "layers_none": "Det finns inga lager ännu.",
    "layers_scroll": "Tabell över lager, rullbar",
    "col_name": "Namn",
    "col_title": "Titel",
    "col_kind": "Typ",
    "col_version": "Version",
    "col_visibility": "Synlighet",
    "col_features": "Objekt",
    "col_updated": "Uppdaterad",
    "col_created": "Skapad",
    "col_live": "Status",
    "col_report": "Rapport",
    "col_action": "Åtgärd",
    "kind_vector": "Vektor",
    "kind_raster": "Raster",
    "geom_Point": "punkter",
    "geom_LineString": "linjer",
    "geom_Polygon": "ytor",
    "public": "Publikt",
    "private": "Privat",
    "none": "–",
    "upload_title": "Ladda upp ett nytt lager",
    "upload_version_title": "Ny version av {name}",
    "upload_intro": "Filen kontrolleras, lagas om det går och publiceras som en ny version. "
    "Den version som är live fortsätter att visas tills den nya är klar.",
    "field_file": "Fil",
    "hint_file": "GeoJSON, zippad Shapefile, GeoPackage, CSV med koordinater, KML, "
    "GeoTIFF eller SRTM (.hgt). Högst {size}.",
    "field_name": "Namn",
    "hint_name": "Används i adresser: 1–48 tecken, små bokstäver a–z, siffror och _, "
    "börjar med en bokstav. Till exempel parker_2025.",
    "field_title": "Titel",
    "hint_title": "Visas för invånare, till exempel ”Parker och grönområden”.",
    "field_srid": "Koordinatsystem (EPSG-kod, valfritt)",
    "hint_srid": "Lämna tomt om filen anger sitt koordinatsystem. Till exempel 3006 för "
    "SWEREF 99 TM, 3011 för SWEREF 99 18 00 eller 3021 för RT90 2,5 gon V.",
    "field_description": "Beskrivning (valfritt)",
    "field_attribution": "Källa och licens (valfritt)",
    "hint_attribution": "Visas på kartan, till exempel ”© Exempel kommun, CC0”.",
    "field_public": "Vem får se lagret?",
    "public_yes": "Alla (publikt)",
    "public_no": "Bara personal (privat)",
    "hint_public": "Välj privat för att granska lagret innan allmänheten ser det.",
    "more_options": "Fler val för filer med flera lager eller blandade geometrier",
    "field_layer": "Lager i filen (valfritt)",
    "hint_layer": "För GeoPackage eller KML med flera lager: namnet på lagret som ska publiceras.",
    "field_geometry_type": "Behåll bara (valfritt)",
    "geometry_any": "Alla geometrier (filen har bara en sort)",
    "geometry_point": "Punkter",
    "geometry_line": "Linjer",
    "geometry_polygon": "Ytor",
    "submit_upload": "Ladda upp och publicera",
    "progress_label": "Uppladdning",
    "progress_start": "Uppladdningen har börjat.",
    "progress_percent": "{percent} procent uppladdat.",
    "progress_processing": "Filen är uppladdad. Servern kontrollerar och publicerar lagret …",
    "progress_done": "Klart. Rapporten visas.",
    "progress_failed": "Uppladdningen misslyckades. Kontrollera anslutningen och försök igen.",
    "progress_refused": "Filen kunde inte publiceras. Se felen nedan.",
    "errors_title": "Det finns problem",
    "error_file": "Välj en fil att ladda upp.",
    "error_name": "Ange ett namn med 1–48 tecken: små bokstäver a–z, siffror och _, "
    "som börjar med en bokstav.",
    "error_name_reserved": "Namnet {name} är reserverat. Välj ett annat.",
    "error_name_taken": "Det finns redan ett lager som heter {name}. "
    "Ladda upp en ny version från lagrets sida i stället.",
    "error_title": "Ange en titel.",
    "error_too_long": "Texten får vara högst {limit} tecken.",
    "error_srid": "Ange EPSG-koden som ett heltal, till exempel 3006, eller lämna fältet tomt.",
    "error_public": "Välj vem som får se lagret.",
    "error_geometry_type": "Välj punkter, linjer eller ytor.",
    "error_refused": "Filen kunde inte publiceras:",
    "error_page_title": "Det gick inte",
    "error_back": "Tillbaka till lagren",
    "report_title": "Valideringsrapport för {name}, version {version}",
    "report_summary": "Sammanfattning",
    "report_read": "Lästa objekt",
    "report_stored": "Sparade objekt",
    "report_repaired": "Lagade objekt",
    "report_rejected": "Avvisade objekt",
    "report_file": "Fil",
    "report_format": "Format",
    "report_crs": "Koordinatsystem",
    "report_geometry": "Geometrityp",
    "report_warnings": "Varningar",
    "report_rejected_caption": "Avvisade objekt: index i filen (från 0) och orsak",
    "report_repaired_caption": "Lagade objekt: index i filen (från 0) och vad som lagades",
    "report_reasons_caption": "Avvisade objekt per orsak",
    "report_listed": "Listan visar högst {count} objekt; antalen ovan är exakta.",
    "report_none_rejected": "Inga objekt avvisades.",
    "col_index": "Index",
    "col_reason": "Orsak",
    "col_count": "Antal",
    "report_raster": "Rasterlager",
    "report_size": "Storlek i bildpunkter",
    "report_bands": "Band",
    "report_render": "Visas som",
    "report_zooms": "Zoomnivåer",
    "report_missing": "Den här versionen har ingen sparad rapport.",
    "px": "{width} × {height} bildpunkter",
    "detail_live": "Version {version} är live.",
    "detail_bounds": "Utbredning (WGS 84)",
    "detail_description": "Beskrivning",
    "detail_attribution": "Källa och licens",
    "detail_actions": "Åtgärder",
    "preview": "Förhandsgranska på kartan",
    "upload_version": "Ladda upp en ny version",
    "publish": "Publicera (gör publikt)",
    "unpublish": "Avpublicera (gör privat)",
    "delete": "Ta bort lagret …",
    "versions_caption": "Sparade versioner, nyast först",
    "version_live": "Live",
    "version_stored": "Sparad",
    "version_report": "Rapport för version {version}",
    "rollback": "Gör version {version} live",
    "published": "{name} är nu publikt: alla kan se det.",
    "unpublished": "{name} är nu privat: bara personal kan se det.",
    "rolled_back": "Version {version} av {name} är nu live.",
    "deleted": "Lagret {name} och alla dess versioner är borttagna.",
    "uploaded": "Version {version} av {name} är publicerad.",
    "delete_title": "Ta bort {name}?",
    "delete_warning": "Lagret och alla {count} sparade versioner tas bort. Det går inte att ångra. "
    "Kartor som visar lagret slutar visa det.",
    "delete_confirm": "Ja, ta bort {name}",
    "cancel": "Avbryt",
    "preview_title": "Förhandsvisning av {name}",
    "preview_intro": "Kartan visar den version som är live (version {version}) ovanpå "
    "bakgrundskartan.",
    "preview_text": "{title}: {features} objekt inom {bounds}.",
    "preview_no_bounds": "Lagret har ingen utbredning.",
    "preview_loading": "Kartan laddas …",
    "preview_ready": "Kartan visar lagret {name}. Använd piltangenterna för att flytta och + "
    "eller − för att zooma när kartan har fokus.",
    "map_label": "Karta med lagret {name}",
    "back_to_layer": "Tillbaka till {name}",
}

EN: dict[str, str] = {
    "site": "Webmap – administration",
    "skip": "Skip to content",
    "nav_label": "Administration",
    "nav_layers": "Layers",
    "nav_upload": "Upload",
    "switch_lang": "Svenska",
    "signed_in_as": "Signed in as",
    "sign_out": "Sign out",
    "error_prefix": "Error:",
    "layers_title": "Layers",
    "layers_caption": "All layers ({count}), public and private",
    "layers_none": "There are no layers yet.",
    "layers_scroll": "Table of layers, scrollable",
    "col_name": "Name",
    "col_title": "Title",
    "col_kind": "Kind",
    "col_version": "Version",
    "col_visibility": "Visibility",
    "col_features": "Features",
    "col_updated": "Updated",
    "col_created": "Created",
    "col_live": "Status",
    "col_report": "Report",
    "col_action": "Action",
    "kind_vector": "Vector",
    "kind_raster": "Raster",
    "geom_Point": "points",
    "geom_LineString": "lines",
    "geom_Polygon": "polygons",
    "public": "Public",
    "private": "Private",
    "none": "–",
    "upload_title": "Upload a new layer",
    "upload_version_title": "New version of {name}",
    "upload_intro": "The file is checked, repaired where possible and published as a new "
    "version. The live version keeps serving until the new one is ready.",
    "field_file": "File",
    "hint_file": "GeoJSON, zipped Shapefile, GeoPackage, CSV with coordinates, KML, "
    "GeoTIFF or SRTM (.hgt). At most {size}.",
    "field_name": "Name",
    "hint_name": "Used in addresses: 1–48 characters, lower-case a–z, digits and _, "
    "starting with a letter. For example parks_2025.",
    "field_title": "Title",
    "hint_title": "Shown to residents, for example “Parks and green spaces”.",
    "field_srid": "Coordinate system (EPSG code, optional)",
    "hint_srid": "Leave empty when the file states its coordinate system. For example 3006 for "
    "SWEREF 99 TM, 3011 for SWEREF 99 18 00 or 3021 for RT90 2.5 gon V.",
    "field_description": "Description (optional)",
    "field_attribution": "Source and licence (optional)",
    "hint_attribution": "Shown on the map, for example “© Example municipality, CC0”.",
    "field_public": "Who may see the layer?",
    "public_yes": "Everyone (public)",
    "public_no": "Staff only (private)",
    "hint_public": "Choose private to review the layer before the public sees it.",
    "more_options": "More options for files with several layers or mixed geometries",
    "field_layer": "Layer in the file (optional)",
    "hint_layer": "For a GeoPackage or KML with several layers: the name of the one to publish.",
    "field_geometry_type": "Keep only (optional)",
    "geometry_any": "All geometries (the file has one kind)",
    "geometry_point": "Points",
    "geometry_line": "Lines",
    "geometry_polygon": "Polygons",
    "submit_upload": "Upload and publish",
    "progress_label": "Upload",
    "progress_start": "The upload has started.",
    "progress_percent": "{percent} percent uploaded.",
    "progress_processing": "The file is uploaded. The server is checking and publishing it …",
    "progress_done": "Done. Showing the report.",
    "progress_failed": "The upload failed. Check the connection and try again.",
    "progress_refused": "The file could not be published. See the errors below.",
    "errors_title": "There is a problem",
    "error_file": "Choose a file to upload.",
    "error_name": "Enter a name of 1–48 characters: lower-case a–z, digits and _, "
    "starting with a letter.",
    "error_name_reserved": "The name {name} is reserved. Choose another.",
    "error_name_taken": "A layer named {name} exists. Upload a new version from its page instead.",
    "error_title": "Enter a title.",
    "error_too_long": "The text may be at most {limit} characters.",
    "error_srid": "Enter the EPSG code as a whole number, for example 3006, or leave it empty.",
    "error_public": "Choose who may see the layer.",
    "error_geometry_type": "Choose points, lines or polygons.",
    "error_refused": "The file could not be published:",
    "error_page_title": "That did not work",
    "error_back": "Back to the layers",
    "report_title": "Validation report for {name}, version {version}",
    "report_summary": "Summary",
    "report_read": "Features read",
    "report_stored": "Features stored",
    "report_repaired": "Features repaired",
    "report_rejected": "Features rejected",
    "report_file": "File",
    "report_format": "Format",
    "report_crs": "Coordinate system",
    "report_geometry": "Geometry type",
    "report_warnings": "Warnings",
    "report_rejected_caption": "Rejected features: index in the file (from 0) and reason",
    "report_repaired_caption": "Repaired features: index in the file (from 0) and what was fixed",
    "report_reasons_caption": "Rejected features by reason",
    "report_listed": "The list shows at most {count} features; the counts above are exact.",
    "report_none_rejected": "No feature was rejected.",
    "col_index": "Index",
    "col_reason": "Reason",
    "col_count": "Count",
    "report_raster": "Raster layer",
    "report_size": "Size in pixels",
    "report_bands": "Bands",
    "report_render": "Drawn as",
    "report_zooms": "Zoom levels",
    "report_missing": "This version has no stored report.",
    "px": "{width} × {height} pixels",
    "detail_live": "Version {version} is live.",
    "detail_bounds": "Extent (WGS 84)",
    "detail_description": "Description",
    "detail_attribution": "Source and licence",
    "detail_actions": "Actions",
    "preview": "Preview on the map",
    "upload_version": "Upload a new version",
    "publish": "Publish (make public)",
    "unpublish": "Unpublish (make private)",
    "delete": "Delete the layer …",
    "versions_caption": "Stored versions, newest first",
    "version_live": "Live",
    "version_stored": "Stored",
    "version_report": "Report of version {version}",
    "rollback": "Make version {version} live",
    "published": "{name} is now public: anyone can see it.",
    "unpublished": "{name} is now private: only staff can see it.",
    "rolled_back": "Version {version} of {name} is now live.",
    "deleted": "The layer {name} and all its versions are deleted.",
    "uploaded": "Version {version} of {name} is published.",
    "delete_title": "Delete {name}?",
    "delete_warning": "The layer and all {count} stored versions are deleted. This cannot be "
    "undone. Maps that show the layer stop showing it.",
    "delete_confirm": "Yes, delete {name}",
    "cancel": "Cancel",
    "preview_title": "Preview of {name}",
    "preview_intro": "The map shows the live version (version {version}) over the basemap.",
    "preview_text": "{title}: {features} features within {bounds}.",
    "preview_no_bounds": "The layer has no extent.",
    "preview_loading": "The map is loading …",
    "preview_ready": "The map shows the layer {name}. Use the arrow keys to move and + or − "
    "to zoom while the map has focus.",
    "map_label": "Map with the layer {name}",
    "back_to_layer": "Back to {name}",
}

STRINGS: dict[str, dict[str, str]] = {"sv": SV, "en": EN}


@dataclass(frozen=True)
class Translator:
    """The words and number/date formats of one language, callable from templates."""

    lang: str

    def __call__(self, key: str, **values: object) -> str:
        return STRINGS[self.lang][key].format(**values)

    def number(self, value: int | float | None) -> str:
        """Thousands grouped as each language writes them (a no-break space in Swedish)."""
        if value is None:
            return self("none")
        text = f"{value:,}"
        return text.replace(",", "\u00a0") if self.lang == "sv" else text

    def when(self, iso: str | None) -> str:
        """An ISO timestamp as ``YYYY-MM-DD HH:MM`` Swedish time (ISO dates read well in both)."""
        if not iso:
            return self("none")
        return datetime.fromisoformat(iso).astimezone(LOCAL_TIME).strftime("%Y-%m-%d %H:%M")

    def size(self, size: int) -> str:
        """A byte count as MB or GB."""
        gigabytes = size >= 1024**3
        text = f"{size / 1024**3:.1f} GB" if gigabytes else f"{size / 1024**2:.0f} MB"
        return text.replace(".", ",") if self.lang == "sv" else text


def pick_lang(requested: str | None, remembered: object) -> str:
    """The page language: ``?lang=`` when valid, else the session's choice, else Swedish."""
    if requested in LANGS:
        return str(requested)
    if isinstance(remembered, str) and remembered in LANGS:
        return remembered
    return DEFAULT_LANG
