// The one translation unit that compiles Boost.Beast (BOOST_BEAST_SEPARATE_COMPILATION, set
// publicly by the otpd_beast target): the HTTP parser, fields and status tables are built here
// once instead of in every file that uses Beast.
#include <boost/beast/src.hpp>
