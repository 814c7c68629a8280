## tests/tests.mk -- test drivers shared by all areas (integration runner, fuzz targets).
