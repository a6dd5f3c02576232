namespace Vigil.Analysis.Rules.Lists;

// The lookup= attribute of a rule's <list> element.
internal enum CdbLookup
{
    // match_key (the default): the field value is a key of the list.
    MatchKey,

    // not_match_key: the field value is not a key of the list.
    NotMatchKey,

    // match_key_value: the field value is a key and its value matches the check_value OSRegex.
    MatchKeyValue,

    // address_match_key: the IP is a key, or lies in a network written as a dotted prefix such as "192.168."
    AddressMatchKey,

    // not_address_match_key: the IP is neither a key nor inside a listed network.
    NotAddressMatchKey,

    // address_match_key_value: the IP or its network is listed and that entry's value matches the check.
    AddressMatchKeyValue,
}
