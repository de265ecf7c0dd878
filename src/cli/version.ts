/** The version of portcullis (the CLI's --version, portcullis_build_info). */
export const VERSION = '0.1.0';
