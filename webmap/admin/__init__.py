"""The admin pages for GIS staff: ``views`` (the blueprint), ``forms`` (reading and checking the
upload form) and ``i18n`` (the pages' Swedish and English text)."""
