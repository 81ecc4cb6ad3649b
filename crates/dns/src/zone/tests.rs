//! Tests of the zone reader, checks and writer.
