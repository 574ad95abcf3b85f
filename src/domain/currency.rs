//! ISO 4217 currency codes. Money is an integer of minor units plus one of these codes.

use crate::error::FieldError;

/// A currency code in active use (ISO 4217 list one, without precious metals, bond units,
/// SDRs and the test and "no currency" codes), upper case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Currency(&'static str);

/// Active ISO 4217 codes, sorted (a test keeps it so) for binary search. Fund codes such as
/// CLF (Chile's Unidad de Fomento) are included: contracts are written in them.
const ACTIVE: &[&str] = &[
    "AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT",
    "BGN", "BHD", "BIF", "BMD", "BND", "BOB", "BOV", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD",
    "CAD", "CDF", "CHE", "CHF", "CHW", "CLF", "CLP", "CNY", "COP", "COU", "CRC", "CUP", "CVE",
    "CZK", "DJF", "DKK", "DOP", "DZD", "EGP", "ERN", "ETB", "EUR", "FJD", "FKP", "GBP", "GEL",
    "GHS", "GIP", "GMD", "GNF", "GTQ", "GYD", "HKD", "HNL", "HTG", "HUF", "IDR", "ILS", "INR",
    "IQD", "IRR", "ISK", "JMD", "JOD", "JPY", "KES", "KGS", "KHR", "KMF", "KPW", "KRW", "KWD",
    "KYD", "KZT", "LAK", "LBP", "LKR", "LRD", "LSL", "LYD", "MAD", "MDL", "MGA", "MKD", "MMK",
    "MNT", "MOP", "MRU", "MUR", "MVR", "MWK", "MXN", "MXV", "MYR", "MZN", "NAD", "NGN", "NIO",
    "NOK", "NPR", "NZD", "OMR", "PAB", "PEN", "PGK", "PHP", "PKR", "PLN", "PYG", "QAR", "RON",
    "RSD", "RUB", "RWF", "SAR", "SBD", "SCR", "SDG", "SEK", "SGD", "SHP", "SLE", "SOS", "SRD",
    "SSP", "STN", "SVC", "SYP", "SZL", "THB", "TJS", "TMT", "TND", "TOP", "TRY", "TTD", "TWD",
    "TZS", "UAH", "UGX", "USD", "USN", "UYI", "UYU", "UYW", "UZS", "VED", "VES", "VND", "VUV",
    "WST", "XAF", "XCD", "XCG", "XOF", "XPF", "YER", "ZAR", "ZMW", "ZWG",
];

impl Currency {
    /// Accepts any case and surrounding spaces: ` eur ` is `EUR`.
    pub fn parse(field: &str, raw: &str) -> Result<Currency, FieldError> {
        let code = raw.trim().to_ascii_uppercase();
        match ACTIVE.binary_search(&code.as_str()) {
            Ok(i) => Ok(Currency(ACTIVE[i])),
            Err(_) => Err(FieldError::new(
                field,
                "must be an ISO 4217 currency code in use, like USD or EUR",
            )),
        }
    }

    pub fn usd() -> Currency {
        Currency("USD")
    }

    pub fn as_str(&self) -> &'static str {
        self.0
    }
}

impl std::str::FromStr for Currency {
    type Err = String;

    /// For the command line: the message names what was given.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Currency::parse("currency", s)
            .map_err(|_| format!("{s:?} is not an ISO 4217 currency code in use, like USD or EUR"))
    }
}

impl std::fmt::Display for Currency {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_is_sorted_unique_and_upper_case() {
        assert!(ACTIVE.windows(2).all(|w| w[0] < w[1]));
        assert!(
            ACTIVE
                .iter()
                .all(|c| c.len() == 3 && c.bytes().all(|b| b.is_ascii_uppercase()))
        );
    }

    #[test]
    fn codes_are_normalised_and_checked() {
        assert_eq!(Currency::parse("c", " eur ").unwrap().as_str(), "EUR");
        assert_eq!(Currency::parse("c", "JPY").unwrap(), Currency("JPY"));
        for bad in ["", "US", "USDD", "XXX", "XAU", "ABC", "HRK", "€", "usd;"] {
            assert!(Currency::parse("c", bad).is_err(), "{bad:?} accepted");
        }
        assert_eq!("chf".parse::<Currency>().unwrap().as_str(), "CHF");
        assert!(
            "dollars"
                .parse::<Currency>()
                .unwrap_err()
                .contains("dollars")
        );
    }
}
