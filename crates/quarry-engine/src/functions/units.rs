//! Unit conversions: `convert_angle`, `convert_energy`, `convert_force`, `convert_length`,
//! `convert_mass`, `convert_speed`, `convert_temperature` and `convert_volume`.
//!
//! Each takes `(value, from, to)` with unit names spelt exactly as Kusto documents them
//! (`'Meter'`, `'DegreeCelsius'`, …). An unknown unit, or a null argument, gives null.
//!
//! Every linear unit is stored as its size in one base unit of its quantity (metre, joule,
//! newton, kilogram, metre per second, cubic metre, degree of angle); a conversion goes through the base.
//! Temperatures are affine and go through kelvin; the angle unit `Tilt` (the sine of the angle)
//! is the one non-linear angle unit.

use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result as DfResult, ScalarValue};
use datafusion::logical_expr::Expr;

use super::dynamic::{row_call, scalar_f64, scalar_str, RowFn};
use super::{check_arity, CallContext, FamilyResult, PlannedArg};

/// The functions this family implements.
pub(super) const NAMES: &[&str] = &[
    "convert_angle",
    "convert_energy",
    "convert_force",
    "convert_length",
    "convert_mass",
    "convert_speed",
    "convert_temperature",
    "convert_volume",
];

/// Plans `name(args)` if it belongs to this family.
pub(super) fn plan(name: &str, args: &[PlannedArg], ctx: &CallContext) -> FamilyResult {
    let f: RowFn = match name {
        "convert_angle" => angle_row,
        "convert_energy" => energy_row,
        "convert_force" => force_row,
        "convert_length" => length_row,
        "convert_mass" => mass_row,
        "convert_speed" => speed_row,
        "convert_temperature" => temperature_row,
        "convert_volume" => volume_row,
        _ => return None,
    };
    Some(check_arity(name, args, 3, 3, ctx).map(|()| {
        let exprs: Vec<Expr> = args.iter().map(|a| a.expr.clone()).collect();
        row_call(name, DataType::Float64, f, exprs)
    }))
}

// ---------------------------------------------------------------------------------------------
// Unit tables: (name, size in the base unit)
// ---------------------------------------------------------------------------------------------

/// A quantity's units: each name with its size in the quantity's base unit.
type Table = &'static [(&'static str, f64)];

const INCH: f64 = 0.0254;
const FOOT: f64 = 0.3048;
const YARD: f64 = 0.9144;
const MILE: f64 = 1_609.344;
const US_SURVEY_FOOT: f64 = 1_200.0 / 3_937.0;
const LIGHT_YEAR: f64 = 9.460_730_472_58e15;
const PARSEC: f64 = 3.085_677_581_28e16;

/// Lengths in metres.
const LENGTH: Table = &[
    ("Angstrom", 1e-10),
    ("AstronomicalUnit", 1.495_978_707e11),
    ("Centimeter", 1e-2),
    ("Chain", 20.1168),
    ("DataMile", 1_828.8),
    ("Decameter", 1e1),
    ("Decimeter", 1e-1),
    ("DtpPica", INCH / 6.0),
    ("DtpPoint", INCH / 72.0),
    ("Fathom", 1.8288),
    ("Foot", FOOT),
    ("Hand", 0.1016),
    ("Hectometer", 1e2),
    ("Inch", INCH),
    ("KilolightYear", LIGHT_YEAR * 1e3),
    ("Kilometer", 1e3),
    ("Kiloparsec", PARSEC * 1e3),
    ("LightYear", LIGHT_YEAR),
    ("MegalightYear", LIGHT_YEAR * 1e6),
    ("Megaparsec", PARSEC * 1e6),
    ("Meter", 1.0),
    ("Microinch", INCH * 1e-6),
    ("Micrometer", 1e-6),
    ("Mil", INCH * 1e-3),
    ("Mile", MILE),
    ("Millimeter", 1e-3),
    ("Nanometer", 1e-9),
    ("NauticalMile", 1_852.0),
    ("Parsec", PARSEC),
    ("PrinterPica", INCH * 12.0 / 72.27),
    ("PrinterPoint", INCH / 72.27),
    ("Shackle", 27.432),
    ("SolarRadius", 6.955_1e8),
    ("Twip", INCH / 1_440.0),
    ("UsSurveyFoot", US_SURVEY_FOOT),
    ("Yard", YARD),
];

const BTU: f64 = 1_055.055_852_62;
const THERM_EC: f64 = 1.055_055_852_62e8;
const THERM_IMPERIAL: f64 = 1.055_055_852_573_48e8;
const THERM_US: f64 = 1.054_804e8;
const ELECTRON_VOLT: f64 = 1.602_176_565e-19;
const DAY_SECONDS: f64 = 86_400.0;
const HOUR_SECONDS: f64 = 3_600.0;

/// Energies in joules.
const ENERGY: Table = &[
    ("BritishThermalUnit", BTU),
    ("Calorie", 4.184),
    ("DecathermEc", THERM_EC * 10.0),
    ("DecathermImperial", THERM_IMPERIAL * 10.0),
    ("DecathermUs", THERM_US * 10.0),
    ("ElectronVolt", ELECTRON_VOLT),
    ("Erg", 1e-7),
    ("FootPound", 1.355_817_948_331_400_4),
    ("GigabritishThermalUnit", BTU * 1e9),
    ("GigaelectronVolt", ELECTRON_VOLT * 1e9),
    ("Gigajoule", 1e9),
    ("GigawattDay", DAY_SECONDS * 1e9),
    ("GigawattHour", HOUR_SECONDS * 1e9),
    // One mechanical horsepower is 550 foot-pounds-force per second.
    ("HorsepowerHour", 550.0 * FOOT * POUND_FORCE * HOUR_SECONDS),
    ("Joule", 1.0),
    ("KilobritishThermalUnit", BTU * 1e3),
    ("Kilocalorie", 4.184e3),
    ("KiloelectronVolt", ELECTRON_VOLT * 1e3),
    ("Kilojoule", 1e3),
    ("KilowattDay", DAY_SECONDS * 1e3),
    ("KilowattHour", HOUR_SECONDS * 1e3),
    ("MegabritishThermalUnit", BTU * 1e6),
    ("Megacalorie", 4.184e6),
    ("MegaelectronVolt", ELECTRON_VOLT * 1e6),
    ("Megajoule", 1e6),
    ("MegawattDay", DAY_SECONDS * 1e6),
    ("MegawattHour", HOUR_SECONDS * 1e6),
    ("Millijoule", 1e-3),
    ("TeraelectronVolt", ELECTRON_VOLT * 1e12),
    ("TerawattDay", DAY_SECONDS * 1e12),
    ("TerawattHour", HOUR_SECONDS * 1e12),
    ("ThermEc", THERM_EC),
    ("ThermImperial", THERM_IMPERIAL),
    ("ThermUs", THERM_US),
    ("WattDay", DAY_SECONDS),
    ("WattHour", HOUR_SECONDS),
];

const STANDARD_GRAVITY: f64 = 9.806_65;
const POUND: f64 = 0.453_592_37;
const POUND_FORCE: f64 = POUND * STANDARD_GRAVITY;

/// Forces in newtons.
const FORCE: Table = &[
    ("Decanewton", 1e1),
    ("Dyn", 1e-5),
    ("KilogramForce", STANDARD_GRAVITY),
    ("Kilonewton", 1e3),
    ("KiloPond", STANDARD_GRAVITY),
    ("KilopoundForce", POUND_FORCE * 1e3),
    ("Meganewton", 1e6),
    ("Micronewton", 1e-6),
    ("Millinewton", 1e-3),
    ("Newton", 1.0),
    ("OunceForce", POUND_FORCE / 16.0),
    ("Poundal", POUND * FOOT),
    ("PoundForce", POUND_FORCE),
    ("ShortTonForce", POUND_FORCE * 2_000.0),
    ("TonneForce", STANDARD_GRAVITY * 1e3),
];

/// Masses in kilograms.
const MASS: Table = &[
    ("Centigram", 1e-5),
    ("Decagram", 1e-2),
    ("Decigram", 1e-4),
    ("EarthMass", 5.972_2e24),
    ("Grain", 6.479_891e-5),
    ("Gram", 1e-3),
    ("Hectogram", 1e-1),
    ("Kilogram", 1.0),
    ("Kilopound", POUND * 1e3),
    ("Kilotonne", 1e6),
    ("LongHundredweight", POUND * 112.0),
    ("LongTon", POUND * 2_240.0),
    ("Megapound", POUND * 1e6),
    ("Megatonne", 1e9),
    ("Microgram", 1e-9),
    ("Milligram", 1e-6),
    ("Nanogram", 1e-12),
    ("Ounce", POUND / 16.0),
    ("Pound", POUND),
    ("ShortHundredweight", POUND * 100.0),
    ("ShortTon", POUND * 2_000.0),
    ("Slug", POUND_FORCE / FOOT),
    ("SolarMass", 1.989_47e30),
    ("Stone", POUND * 14.0),
    ("Tonne", 1e3),
];

/// Speeds in metres per second.
const SPEED: Table = &[
    ("CentimeterPerHour", 1e-2 / HOUR_SECONDS),
    ("CentimeterPerMinute", 1e-2 / 60.0),
    ("CentimeterPerSecond", 1e-2),
    ("DecimeterPerMinute", 1e-1 / 60.0),
    ("DecimeterPerSecond", 1e-1),
    ("FootPerHour", FOOT / HOUR_SECONDS),
    ("FootPerMinute", FOOT / 60.0),
    ("FootPerSecond", FOOT),
    ("InchPerHour", INCH / HOUR_SECONDS),
    ("InchPerMinute", INCH / 60.0),
    ("InchPerSecond", INCH),
    ("KilometerPerHour", 1e3 / HOUR_SECONDS),
    ("KilometerPerMinute", 1e3 / 60.0),
    ("KilometerPerSecond", 1e3),
    ("Knot", 1_852.0 / HOUR_SECONDS),
    ("MeterPerHour", 1.0 / HOUR_SECONDS),
    ("MeterPerMinute", 1.0 / 60.0),
    ("MeterPerSecond", 1.0),
    ("MicrometerPerMinute", 1e-6 / 60.0),
    ("MicrometerPerSecond", 1e-6),
    ("MilePerHour", MILE / HOUR_SECONDS),
    ("MillimeterPerHour", 1e-3 / HOUR_SECONDS),
    ("MillimeterPerMinute", 1e-3 / 60.0),
    ("MillimeterPerSecond", 1e-3),
    ("NanometerPerMinute", 1e-9 / 60.0),
    ("NanometerPerSecond", 1e-9),
    ("UsSurveyFootPerHour", US_SURVEY_FOOT / HOUR_SECONDS),
    ("UsSurveyFootPerMinute", US_SURVEY_FOOT / 60.0),
    ("UsSurveyFootPerSecond", US_SURVEY_FOOT),
    ("YardPerHour", YARD / HOUR_SECONDS),
    ("YardPerMinute", YARD / 60.0),
    ("YardPerSecond", YARD),
];

const CUBIC_FOOT: f64 = FOOT * FOOT * FOOT;
const US_GALLON: f64 = 231.0 * INCH * INCH * INCH;
const IMPERIAL_GALLON: f64 = 4.546_09e-3;

/// Volumes in cubic metres.
const VOLUME: Table = &[
    ("AcreFoot", 43_560.0 * CUBIC_FOOT),
    ("AuTablespoon", 2e-5),
    ("BoardFoot", 144.0 * INCH * INCH * INCH),
    ("Centiliter", 1e-5),
    ("CubicCentimeter", 1e-6),
    ("CubicDecimeter", 1e-3),
    ("CubicFoot", CUBIC_FOOT),
    ("CubicHectometer", 1e6),
    ("CubicInch", INCH * INCH * INCH),
    ("CubicKilometer", 1e9),
    ("CubicMeter", 1.0),
    ("CubicMicrometer", 1e-18),
    ("CubicMile", MILE * MILE * MILE),
    ("CubicMillimeter", 1e-9),
    ("CubicYard", YARD * YARD * YARD),
    ("Decaliter", 1e-2),
    ("DecausGallon", US_GALLON * 1e1),
    ("Deciliter", 1e-4),
    ("DeciusGallon", US_GALLON * 1e-1),
    ("HectocubicFoot", CUBIC_FOOT * 1e2),
    ("HectocubicMeter", 1e2),
    ("Hectoliter", 1e-1),
    ("HectousGallon", US_GALLON * 1e2),
    ("ImperialBeerBarrel", IMPERIAL_GALLON * 36.0),
    ("ImperialGallon", IMPERIAL_GALLON),
    ("ImperialOunce", IMPERIAL_GALLON / 160.0),
    ("ImperialPint", IMPERIAL_GALLON / 8.0),
    ("KilocubicFoot", CUBIC_FOOT * 1e3),
    ("KilocubicMeter", 1e3),
    ("KiloimperialGallon", IMPERIAL_GALLON * 1e3),
    ("Kiloliter", 1.0),
    ("KilousGallon", US_GALLON * 1e3),
    ("Liter", 1e-3),
    ("MegacubicFoot", CUBIC_FOOT * 1e6),
    ("MegaimperialGallon", IMPERIAL_GALLON * 1e6),
    ("Megaliter", 1e3),
    ("MegausGallon", US_GALLON * 1e6),
    ("MetricCup", 2.5e-4),
    ("MetricTeaspoon", 5e-6),
    ("Microliter", 1e-9),
    ("Milliliter", 1e-6),
    ("OilBarrel", US_GALLON * 42.0),
    ("UkTablespoon", 1.5e-5),
    ("UsBeerBarrel", US_GALLON * 31.0),
    ("UsCustomaryCup", US_GALLON / 16.0),
    ("UsGallon", US_GALLON),
    ("UsLegalCup", 2.4e-4),
    ("UsOunce", US_GALLON / 128.0),
    ("UsPint", US_GALLON / 8.0),
    ("UsQuart", US_GALLON / 4.0),
    ("UsTablespoon", US_GALLON / 256.0),
    ("UsTeaspoon", US_GALLON / 768.0),
];

const DEGREES_PER_RADIAN: f64 = 180.0 / std::f64::consts::PI;

/// Angles in degrees (`Tilt` is handled apart: it is not linear).
const ANGLE: Table = &[
    ("Arcminute", 1.0 / 60.0),
    ("Arcsecond", 1.0 / 3_600.0),
    ("Centiradian", DEGREES_PER_RADIAN * 1e-2),
    ("Deciradian", DEGREES_PER_RADIAN * 1e-1),
    ("Degree", 1.0),
    ("Gradian", 0.9),
    ("Microdegree", 1e-6),
    ("Microradian", DEGREES_PER_RADIAN * 1e-6),
    ("Millidegree", 1e-3),
    ("Milliradian", DEGREES_PER_RADIAN * 1e-3),
    ("Nanodegree", 1e-9),
    ("Nanoradian", DEGREES_PER_RADIAN * 1e-9),
    ("NatoMil", 360.0 / 6_400.0),
    ("Radian", DEGREES_PER_RADIAN),
    ("Revolution", 360.0),
];

// ---------------------------------------------------------------------------------------------
// Conversions
// ---------------------------------------------------------------------------------------------

fn factor(table: Table, unit: &str) -> Option<f64> {
    table
        .iter()
        .find(|(name, _)| *name == unit)
        .map(|(_, size)| *size)
}

/// `value` in unit `from` expressed in unit `to`, both from `table`.
fn convert_linear(table: Table, value: f64, from: &str, to: &str) -> Option<f64> {
    if from == to {
        return factor(table, from).map(|_| value);
    }
    Some(value * factor(table, from)? / factor(table, to)?)
}

fn convert_angle(value: f64, from: &str, to: &str) -> Option<f64> {
    let degrees = match from {
        "Tilt" => value.asin() * DEGREES_PER_RADIAN,
        _ => value * factor(ANGLE, from)?,
    };
    match to {
        "Tilt" if from == "Tilt" => Some(value),
        "Tilt" => Some((degrees / DEGREES_PER_RADIAN).sin()),
        _ if from == to => Some(value),
        _ => Some(degrees / factor(ANGLE, to)?),
    }
}

const CELSIUS_ZERO: f64 = 273.15;

fn to_kelvin(value: f64, unit: &str) -> Option<f64> {
    Some(match unit {
        "Kelvin" => value,
        "DegreeCelsius" => value + CELSIUS_ZERO,
        "MillidegreeCelsius" => value / 1e3 + CELSIUS_ZERO,
        "DegreeDelisle" => 373.15 - value * 2.0 / 3.0,
        "DegreeFahrenheit" => (value + 459.67) * 5.0 / 9.0,
        "DegreeNewton" => value * 100.0 / 33.0 + CELSIUS_ZERO,
        "DegreeRankine" => value * 5.0 / 9.0,
        "DegreeReaumur" => value * 5.0 / 4.0 + CELSIUS_ZERO,
        "DegreeRoemer" => (value - 7.5) * 40.0 / 21.0 + CELSIUS_ZERO,
        "SolarTemperature" => value * 5_778.0,
        _ => return None,
    })
}

fn from_kelvin(kelvin: f64, unit: &str) -> Option<f64> {
    Some(match unit {
        "Kelvin" => kelvin,
        "DegreeCelsius" => kelvin - CELSIUS_ZERO,
        "MillidegreeCelsius" => (kelvin - CELSIUS_ZERO) * 1e3,
        "DegreeDelisle" => (373.15 - kelvin) * 3.0 / 2.0,
        "DegreeFahrenheit" => kelvin * 9.0 / 5.0 - 459.67,
        "DegreeNewton" => (kelvin - CELSIUS_ZERO) * 33.0 / 100.0,
        "DegreeRankine" => kelvin * 9.0 / 5.0,
        "DegreeReaumur" => (kelvin - CELSIUS_ZERO) * 4.0 / 5.0,
        "DegreeRoemer" => (kelvin - CELSIUS_ZERO) * 21.0 / 40.0 + 7.5,
        "SolarTemperature" => kelvin / 5_778.0,
        _ => return None,
    })
}

fn convert_temperature(value: f64, from: &str, to: &str) -> Option<f64> {
    let kelvin = to_kelvin(value, from)?;
    if from == to {
        return Some(value);
    }
    from_kelvin(kelvin, to)
}

/// The `(value, from, to)` of a row; `None` when any is null.
fn row_args(args: &[ScalarValue]) -> Option<(f64, &str, &str)> {
    Some((
        scalar_f64(args.first()?)?,
        scalar_str(args.get(1)?)?,
        scalar_str(args.get(2)?)?,
    ))
}

fn result(args: &[ScalarValue], convert: impl Fn(f64, &str, &str) -> Option<f64>) -> ScalarValue {
    ScalarValue::Float64(row_args(args).and_then(|(value, from, to)| convert(value, from, to)))
}

fn angle_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    Ok(result(args, convert_angle))
}

fn energy_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    Ok(result(args, |v, f, t| convert_linear(ENERGY, v, f, t)))
}

fn force_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    Ok(result(args, |v, f, t| convert_linear(FORCE, v, f, t)))
}

fn length_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    Ok(result(args, |v, f, t| convert_linear(LENGTH, v, f, t)))
}

fn mass_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    Ok(result(args, |v, f, t| convert_linear(MASS, v, f, t)))
}

fn speed_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    Ok(result(args, |v, f, t| convert_linear(SPEED, v, f, t)))
}

fn temperature_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    Ok(result(args, convert_temperature))
}

fn volume_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    Ok(result(args, |v, f, t| convert_linear(VOLUME, v, f, t)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(actual: Option<f64>, expected: f64) -> bool {
        actual.is_some_and(|a| (a - expected).abs() <= 1e-9 * a.abs().max(expected.abs()))
    }

    #[test]
    fn linear_conversions() {
        let cases: &[(Table, f64, &str, &str, f64)] = &[
            (LENGTH, 1.2, "Meter", "Foot", 3.937_007_874_015_748),
            (LENGTH, 1.0, "Mile", "Yard", 1_760.0),
            (LENGTH, 1.0, "Inch", "Twip", 1_440.0),
            (LENGTH, 1.0, "Foot", "Inch", 12.0),
            (
                ENERGY,
                1.2,
                "Joule",
                "BritishThermalUnit",
                0.001_137_380_544_375_980_6,
            ),
            (ENERGY, 1.0, "KilowattHour", "Joule", 3.6e6),
            (ENERGY, 1.0, "Kilocalorie", "Calorie", 1_000.0),
            (FORCE, 1.2, "Newton", "Decanewton", 0.12),
            (FORCE, 1.0, "PoundForce", "OunceForce", 16.0),
            (MASS, 1.2, "Kilogram", "Pound", 2.645_547_146_218_530_7),
            (MASS, 1.0, "Stone", "Pound", 14.0),
            (MASS, 1.0, "Pound", "Ounce", 16.0),
            (SPEED, 1.2, "MeterPerSecond", "CentimeterPerHour", 432_000.0),
            (SPEED, 36.0, "KilometerPerHour", "MeterPerSecond", 10.0),
            (VOLUME, 1.0, "UsGallon", "Liter", 3.785_411_784),
            (VOLUME, 1.0, "UsGallon", "UsTeaspoon", 768.0),
            (VOLUME, 1.0, "OilBarrel", "UsGallon", 42.0),
            (VOLUME, 1.0, "CubicMeter", "Liter", 1_000.0),
            (VOLUME, 1.0, "AcreFoot", "CubicMeter", 1_233.481_837_547_52),
            (VOLUME, 1.0, "ImperialGallon", "ImperialPint", 8.0),
        ];
        for &(table, value, from, to, expected) in cases {
            let actual = convert_linear(table, value, from, to);
            assert!(
                close(actual, expected),
                "{from}->{to}: {actual:?} vs {expected}"
            );
        }
        assert_eq!(convert_linear(LENGTH, 1.0, "Meter", "Parsnip"), None);
        assert_eq!(convert_linear(LENGTH, 1.0, "meter", "Foot"), None);
        assert_eq!(convert_linear(LENGTH, 1.0, "Nope", "Nope"), None);
    }

    #[test]
    fn angles_and_temperatures() {
        assert!(close(convert_angle(1.2, "Degree", "Arcminute"), 72.0));
        assert!(close(
            convert_angle(std::f64::consts::PI, "Radian", "Degree"),
            180.0
        ));
        assert!(close(convert_angle(0.5, "Tilt", "Degree"), 30.0));
        assert!(close(convert_angle(30.0, "Degree", "Tilt"), 0.5));
        assert!(close(convert_angle(1.0, "Revolution", "Gradian"), 400.0));
        assert_eq!(convert_angle(1.0, "Degree", "Turn"), None);

        let cases = [
            (1.2, "Kelvin", "DegreeCelsius", -271.95),
            (100.0, "DegreeCelsius", "DegreeFahrenheit", 212.0),
            (32.0, "DegreeFahrenheit", "Kelvin", 273.15),
            (0.0, "DegreeCelsius", "DegreeDelisle", 150.0),
            (100.0, "DegreeCelsius", "DegreeNewton", 33.0),
            (100.0, "DegreeCelsius", "DegreeReaumur", 80.0),
            (100.0, "DegreeCelsius", "DegreeRoemer", 60.0),
            (1.0, "DegreeCelsius", "MillidegreeCelsius", 1_000.0),
            (1.0, "SolarTemperature", "Kelvin", 5_778.0),
            (491.67, "DegreeRankine", "DegreeCelsius", 0.0),
        ];
        for (value, from, to, expected) in cases {
            let actual = convert_temperature(value, from, to);
            let ok = if expected == 0.0 {
                actual.is_some_and(|a| a.abs() < 1e-9)
            } else {
                close(actual, expected)
            };
            assert!(ok, "{from}->{to}: {actual:?} vs {expected}");
        }
        assert_eq!(convert_temperature(1.0, "Kelvin", "Celsius"), None);
    }

    #[test]
    fn null_arguments_give_null() {
        let args = [
            ScalarValue::Float64(None),
            ScalarValue::Utf8(Some("Meter".into())),
            ScalarValue::Utf8(Some("Foot".into())),
        ];
        assert_eq!(length_row(&args).ok(), Some(ScalarValue::Float64(None)));
    }
}
