// @peculiar/x509 resolves its parsers through tsyringe, which needs the Reflect metadata API.
// Importing the polyfill here, before @peculiar/x509 anywhere, keeps that requirement in one place.
import 'reflect-metadata';
